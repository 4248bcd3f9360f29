"""kill -9 of the worker while a JSON_LISTINGS_FEED is being processed: after a restart the
new process picks the open feed up from the database, reads its report, and converges without
sending the catalog again."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from adapters.amazon.sandbox import SANDBOX_SELLER, demo_credentials
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.demo.loader import load_demo_catalog
from odop_sync.listings.projection import PricingRule, available_to_sell, project_price
from odop_sync.models import Listing, ListingStatus, Variant
from tests.conftest import MakeAgency, MakeKey, bearer
from tests.test_crash_resume import ROOT, _free_port, _start_server, _wait_ready

# Marketplace time ×20: the feed waits 30 s in queue and processes for 60 s, i.e. 4.5 s here.
TIME_SCALE = 20


def start_sandbox(
    port: int, log: Path, slug: str = "amazon", time_scale: float = TIME_SCALE
) -> subprocess.Popen[bytes]:
    """`odop-sync sandbox serve <slug>` in its own process (it outlives the server's kill)."""
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [
            sys.executable,
            "-m",
            "odop_sync.cli",
            "sandbox",
            "serve",
            slug,
            "--port",
            str(port),
            "--time-scale",
            f"{time_scale:g}",
        ],
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def sandbox_state(sandbox: httpx.AsyncClient, seller: str = SANDBOX_SELLER) -> dict[str, Any]:
    """What a sandbox served on its own holds for `seller` (its state endpoint)."""
    r = await sandbox.get(f"/_sandbox/state/{seller}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.slow
class TestKillDuringFeed:
    async def test_a_feed_in_flight_survives_kill_dash_nine(
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
        env = {"ODOP_SYNC__RATE_LIMIT_SCALE": str(TIME_SCALE), "ODOP_SYNC__FEED_POLL_S": "0.2"}
        sandbox_proc = start_sandbox(sandbox_port, tmp_path / "sandbox.log")
        proc = _start_server(database_url, port, log, env)
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
                credentials = demo_credentials(f"http://127.0.0.1:{sandbox_port}")
                r = await client.post(
                    "/v1/accounts",
                    json={"adapter": "amazon", "name": "Amazon.in", "credentials": credentials},
                    headers=bearer(key),
                )
                assert r.status_code == 201, r.text
                # The engine's sweep finds the new account and sends the catalog as one feed.
                deadline = time.monotonic() + 60
                while True:
                    async with sessionmaker() as session:
                        submitted = await session.scalar(
                            select(Listing.id)
                            .where(Listing.status == ListingStatus.SUBMITTED)
                            .limit(1)
                        )
                    if submitted is not None:
                        break
                    assert time.monotonic() < deadline, "no feed was submitted"
                    await asyncio.sleep(0.05)
                feeds = (await sandbox_state(sandbox))["feeds"]
                assert len(feeds) == 1
                assert feeds[0]["processingStatus"] in ("IN_QUEUE", "IN_PROGRESS")
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                assert (await sandbox_state(sandbox))["listings"] == []  # not processed yet

                proc = _start_server(database_url, port, log, env)
                await _wait_ready(client, proc)
                deadline = time.monotonic() + 90
                while True:
                    async with sessionmaker() as session:
                        statuses = set(await session.scalars(select(Listing.status)))
                    if statuses == {ListingStatus.LIVE}:
                        break
                    assert time.monotonic() < deadline, statuses
                    await asyncio.sleep(0.2)
                state = await sandbox_state(sandbox)
        finally:
            for p in (proc, sandbox_proc):
                if p.poll() is None:
                    p.terminate()
                    p.wait(10)

        # One feed in all: the restarted worker resumed it instead of sending it again.
        assert len(state["feeds"]) == 1
        assert state["calls"].get("createFeed") == 1
        remote = {row["sku"]: row for row in state["listings"]}
        async with sessionmaker() as session:
            variants = list(await session.scalars(select(Variant)))
        assert len(remote) == len(state["listings"]) == len(variants) == 79
        for v in variants:
            price = project_price(v.price_paise, v.mrp_paise, PricingRule()).final_paise
            assert Decimal(remote[v.sku]["price"]) == Decimal(price) / 100
            assert (
                remote[v.sku]["quantity"]
                == available_to_sell(v.stock_on_hand, 0, 0).available_to_sell
            )
