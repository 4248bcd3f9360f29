"""kill -9 of the worker while it is creating the catalog on Flipkart (item calls, ten SKUs a
call, no feeds): after a restart the new process finds what already reached Flipkart, updates it
instead of creating it twice, and converges."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import pytest
from adapters.flipkart.sandbox import SANDBOX_SELLER, demo_credentials
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.demo.loader import load_demo_catalog
from odop_sync.models import Listing, ListingStatus
from tests.conftest import MakeAgency, MakeKey
from tests.pricing import whole_rupees
from tests.processes import sandbox_state, served
from tests.sync.conftest import flipkart_fsn


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
        data = load_demo_catalog("http://127.0.0.1:8000")
        # Real time on both sides: at the adapter's own pace (one call a second after a burst
        # of five) the 79 SKUs take a few seconds, long enough to be cut in the middle.
        async with served(database_url, tmp_path, sandbox=("flipkart", 1)) as server:
            assert server.sandbox is not None
            sandbox = server.sandbox
            await server.publish(key, data["producers"], data["items"])
            credentials = demo_credentials()
            await server.add_account(key, "flipkart", "Flipkart", credentials)
            # The sweep finds the account and starts creating; cut it once some are there.
            deadline = time.monotonic() + 60
            while True:
                listed = len((await sandbox_state(sandbox, SANDBOX_SELLER))["listings"])
                if listed:
                    break
                assert time.monotonic() < deadline, "nothing reached the sandbox"
                await asyncio.sleep(0.02)
            server.kill()
            cut_at = len((await sandbox_state(sandbox, SANDBOX_SELLER))["listings"])
            assert 0 < cut_at < 77, cut_at

            await server.restart()
            deadline = time.monotonic() + 90
            while True:
                async with sessionmaker() as session:
                    statuses = set(await session.scalars(select(Listing.status)))
                if statuses == {ListingStatus.LIVE, ListingStatus.NEEDS_MAPPING}:
                    break
                assert time.monotonic() < deadline, statuses
                await asyncio.sleep(0.2)
            state = await sandbox_state(sandbox, SANDBOX_SELLER)

        # Every mapped SKU was created once: what the killed worker had created, the restarted
        # one found and updated.
        assert sum(state["batchSizes"]["createListings"]) == 77
        assert sum(state["batchSizes"]["updateListings"]) >= cut_at
        remote = {row["sku"]: row for row in state["listings"]}
        mapped = [item for item in data["items"] if flipkart_fsn(item.get("attributes"))]
        assert len(remote) == len(state["listings"]) == len(mapped) == 77
        # The account has no pricing rule and no buffer: each SKU shows the price it was
        # published with, in whole rupees, and its stock (₹21,500 and 6 for BHD-CARPET-3X5-RED).
        carpet = remote["BHD-CARPET-3X5-RED"]
        assert (Decimal(carpet["price"]), carpet["quantity"]) == (Decimal(21500), 6)
        for item in mapped:
            shown = whole_rupees(Decimal(str(item["price"])))
            assert Decimal(remote[item["sku"]]["price"]) == shown, item["sku"]
            assert remote[item["sku"]]["quantity"] == item["stock"], item["sku"]
