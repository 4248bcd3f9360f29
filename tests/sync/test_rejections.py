"""A SKU the marketplace keeps refusing is retried with backoff, then paused with its reason in
plain words; changing the product gives it another chance, and it goes live."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from odop_sync.kit.loopback import LoopbackOnlyTransport
from odop_sync.models import Listing, ListingIssue, ListingStatus
from tests.conftest import bearer
from tests.sync.conftest import MakeWorld, eventually


class TestRejections:
    async def test_repeated_identical_rejections_pause_then_a_fix_resumes(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world(items=10)  # below the bulk threshold: item API calls
        sku = "BHD-CARPET-3X5-RED"
        world.sandbox.faults.reject(
            [sku], field="item_name", message="The title contains a prohibited word."
        )
        account_id = await world.create_account()
        await world.sync_now(account_id)

        async def listing() -> Listing:
            async with world.sessionmaker() as session:
                row = await session.scalar(
                    select(Listing).where(Listing.account_id == account_id, Listing.sku == sku)
                )
            assert row is not None
            return row

        async def paused() -> bool:
            return (await listing()).status is ListingStatus.PAUSED

        await eventually(paused, timeout=15.0)
        row = await listing()
        assert row.failure_count == 3
        assert row.paused_reason is not None
        assert "3 identical rejections" in row.paused_reason
        assert "prohibited word" in row.paused_reason
        async with world.sessionmaker() as session:
            timeline = list(
                await session.scalars(
                    select(ListingIssue)
                    .where(ListingIssue.listing_id == row.id)
                    .order_by(ListingIssue.id)
                )
            )
        pushes = [i for i in timeline if i.source == "push"]
        assert len(pushes) == 3 and all(sku in i.message for i in pushes)
        assert timeline[-1].code == "PAUSED"
        # Paused means left alone: no more calls for it while nothing changes.
        calls = world.sandbox.call_count("putListingsItem")
        other_skus = set(await world.expected(account_id)) - {sku}
        assert other_skus <= set(await world.remote())

        # The operator fixes the title; the rejection no longer applies.
        world.sandbox.faults.rejections.clear()
        r = await world.client.patch(
            f"/v1/variants/{sku}",
            json={"title_en": "Bhadohi hand-knotted carpet, 3x5 ft, red"},
            headers=bearer(world.key),
        )
        assert r.status_code == 200, r.text

        async def live() -> bool:
            return (await listing()).status is ListingStatus.LIVE

        await eventually(live, timeout=5.0)
        assert world.sandbox.call_count("putListingsItem") == calls + 1
        assert sku in await world.remote()


class TestLoopbackOnly:
    async def test_tests_cannot_reach_a_real_marketplace_host(self) -> None:
        async with httpx.AsyncClient(transport=LoopbackOnlyTransport()) as client:
            with pytest.raises(httpx.ConnectError, match="not a loopback host"):
                await client.get("https://sellingpartnerapi-eu.amazon.com/")
