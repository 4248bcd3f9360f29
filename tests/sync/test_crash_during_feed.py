"""kill -9 of the worker while a JSON_LISTINGS_FEED is being processed: after a restart the
new process picks the open feed up from the database, reads its report, and converges without
sending the catalog again."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import pytest
from adapters.amazon.sandbox import demo_credentials
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.demo.loader import load_demo_catalog
from odop_sync.models import Listing, ListingStatus
from tests.conftest import MakeAgency, MakeKey
from tests.processes import sandbox_state, served

# Marketplace time ×20: the feed waits 30 s in queue and processes for 60 s, i.e. 4.5 s here.
TIME_SCALE = 20


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
        env = {"ODOP_SYNC__RATE_LIMIT_SCALE": str(TIME_SCALE), "ODOP_SYNC__FEED_POLL_S": "0.2"}
        data = load_demo_catalog("http://127.0.0.1:8000")
        async with served(
            database_url, tmp_path, env=env, sandbox=("amazon", TIME_SCALE)
        ) as server:
            assert server.sandbox is not None
            sandbox = server.sandbox
            await server.publish(key, data["producers"], data["items"])
            credentials = demo_credentials()
            await server.add_account(key, "amazon", "Amazon.in", credentials)
            # The engine's sweep finds the new account and sends the catalog as one feed.
            deadline = time.monotonic() + 60
            while True:
                async with sessionmaker() as session:
                    submitted = await session.scalar(
                        select(Listing.id).where(Listing.status == ListingStatus.SUBMITTED).limit(1)
                    )
                if submitted is not None:
                    break
                assert time.monotonic() < deadline, "no feed was submitted"
                await asyncio.sleep(0.05)
            feeds = (await sandbox_state(sandbox))["feeds"]
            assert len(feeds) == 1
            assert feeds[0]["processingStatus"] in ("IN_QUEUE", "IN_PROGRESS")
            server.kill()
            assert (await sandbox_state(sandbox))["listings"] == []  # not processed yet

            await server.restart()
            deadline = time.monotonic() + 90
            while True:
                async with sessionmaker() as session:
                    statuses = set(await session.scalars(select(Listing.status)))
                if statuses == {ListingStatus.LIVE}:
                    break
                assert time.monotonic() < deadline, statuses
                await asyncio.sleep(0.2)
            state = await sandbox_state(sandbox)

        # One feed in all: the restarted worker resumed it instead of sending it again.
        assert len(state["feeds"]) == 1
        assert state["calls"].get("createFeed") == 1
        remote = {row["sku"]: row for row in state["listings"]}
        assert len(remote) == len(state["listings"]) == len(data["items"]) == 79
        # The account has no pricing rule and no buffer: each SKU shows the price and stock it
        # was published with (₹21,500 and 6 for BHD-CARPET-3X5-RED).
        carpet = remote["BHD-CARPET-3X5-RED"]
        assert (Decimal(carpet["price"]), carpet["quantity"]) == (Decimal(21500), 6)
        for item in data["items"]:
            assert Decimal(remote[item["sku"]]["price"]) == Decimal(str(item["price"])), item["sku"]
            assert remote[item["sku"]]["quantity"] == item["stock"], item["sku"]
