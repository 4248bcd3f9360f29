"""kill -9 of the worker while it is creating the catalog on Flipkart (item calls, ten SKUs a
call, no feeds): after a restart the new process finds what already reached Flipkart, updates it
instead of creating it twice, and converges."""

from __future__ import annotations

import asyncio
import signal
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from adapters.flipkart.sandbox import SANDBOX_SELLER, demo_credentials
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.demo.loader import load_demo_catalog
from odop_sync.listings.projection import PricingRule, available_to_sell, project_price
from odop_sync.models import Listing, ListingStatus, Variant
from tests.conftest import MakeAgency, MakeKey, bearer
from tests.sync.conftest import flipkart_fsn
from tests.sync.test_crash_during_feed import sandbox_state, start_sandbox
from tests.test_crash_resume import _free_port, _start_server, _wait_ready


@pytest.mark.slow
class TestKillDuringFlipkartPush:
    async def test_a_push_cut_by_kill_dash_nine_resumes_without_duplicates(
        self,
        database_url: str,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sessionmaker: async_sessionmaker[AsyncSession],
        tmp_path: Path,
    ) -> None:
        await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        sandbox_port, port = _free_port(), _free_port()
        log = tmp_path / "server.log"
        # Real time on both sides: at the adapter's own pace (one call a second after a burst
        # of five) the 79 SKUs take a few seconds, long enough to be cut in the middle.
        sandbox_proc = start_sandbox(sandbox_port, tmp_path / "sandbox.log", "flipkart", 1)
        proc = _start_server(database_url, port, log)
        data = load_demo_catalog("http://127.0.0.1:8000")
        try:
            async with (
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{sandbox_port}") as sandbox,
            ):
                await _wait_ready(client, proc)
                r = await client.post(
                    "/v1/batches",
                    json={"producers": data["producers"], "items": data["items"]},
                    headers=bearer(key),
                )
                assert r.status_code == 202, r.text
                r = await client.post(
                    "/v1/accounts",
                    json={
                        "adapter": "flipkart",
                        "name": "Flipkart",
                        "credentials": demo_credentials(f"http://127.0.0.1:{sandbox_port}"),
                    },
                    headers=bearer(key),
                )
                assert r.status_code == 201, r.text
                # The sweep finds the account and starts creating; cut it once some are there.
                deadline = time.monotonic() + 60
                while True:
                    listed = len((await sandbox_state(sandbox, SANDBOX_SELLER))["listings"])
                    if listed:
                        break
                    assert time.monotonic() < deadline, "nothing reached the sandbox"
                    await asyncio.sleep(0.02)
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                cut_at = len((await sandbox_state(sandbox, SANDBOX_SELLER))["listings"])
                assert 0 < cut_at < 77, cut_at

                proc = _start_server(database_url, port, log)
                await _wait_ready(client, proc)
                deadline = time.monotonic() + 90
                while True:
                    async with sessionmaker() as session:
                        statuses = set(await session.scalars(select(Listing.status)))
                    if statuses == {ListingStatus.LIVE, ListingStatus.NEEDS_MAPPING}:
                        break
                    assert time.monotonic() < deadline, statuses
                    await asyncio.sleep(0.2)
                state = await sandbox_state(sandbox, SANDBOX_SELLER)
        finally:
            for p in (proc, sandbox_proc):
                if p.poll() is None:
                    p.terminate()
                    p.wait(10)

        # Every mapped SKU was created once: what the killed worker had created, the restarted
        # one found and updated.
        assert sum(state["batchSizes"]["createListings"]) == 77
        assert sum(state["batchSizes"]["updateListings"]) >= cut_at
        remote = {row["sku"]: row for row in state["listings"]}
        async with sessionmaker() as session:
            variants = list(await session.scalars(select(Variant)))
        mapped = [v for v in variants if flipkart_fsn(v.attributes)]
        assert len(remote) == len(state["listings"]) == len(mapped) == 77
        for v in mapped:
            price = project_price(v.price_paise, v.mrp_paise, PricingRule()).final_paise
            assert Decimal(remote[v.sku]["price"]) == Decimal(price // 100)
            stock = available_to_sell(v.stock_on_hand, 0, 0).available_to_sell
            assert remote[v.sku]["quantity"] == stock
