"""A SKU the marketplace keeps refusing is retried with backoff, then paused with its reason in
plain words; changing the product gives it another chance, and it goes live."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from odop_sync.kit.loopback import LoopbackOnlyTransport
from odop_sync.models import Listing, ListingIssue, ListingStatus
from tests.conftest import bearer
from tests.sync.conftest import EVENT_TIMEOUT, MakeWorld, eventually


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

        await eventually(paused, timeout=EVENT_TIMEOUT)
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

        async def all_live() -> bool:
            rows = await world.listings(account_id)
            return all(r.status is ListingStatus.LIVE and r.dirty_since is None for r in rows)

        await eventually(all_live, timeout=EVENT_TIMEOUT)
        # The title is the product's: its three carpet sizes went out again, each once.
        assert world.sandbox.call_count("putListingsItem") == calls + 3
        assert sku in await world.remote()


class TestLoopbackOnly:
    async def test_tests_cannot_reach_a_real_marketplace_host(self) -> None:
        async with httpx.AsyncClient(transport=LoopbackOnlyTransport()) as client:
            with pytest.raises(httpx.ConnectError, match="not a loopback host"):
                await client.get("https://sellingpartnerapi-eu.amazon.com/")


class TestFlipkartPerSkuFailure:
    async def test_a_price_refused_for_one_sku_is_on_its_timeline_and_the_others_land(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world(items=25, marketplace="flipkart")
        account_id = await world.create_account(rounding="rupee", markup_percent="0")
        assert (await world.sync_now(account_id))["status"] == "done"
        before = await world.expected(account_id)
        assert len(before) == 25
        skus = sorted(before)
        bad = skus[12]
        world.sandbox.faults.reject(
            [bad], field="price.selling_price", message="Price is below the category floor"
        )
        for sku in skus:
            r = await world.client.patch(
                f"/v1/variants/{sku}",
                json={"price": str(before[sku][0] - 1)},
                headers=bearer(world.key),
            )
            assert r.status_code == 200, r.text

        async def shown() -> dict[str, Any]:
            r = await world.client.get(
                f"/v1/listings?account_id={account_id}&sku={bad}", headers=bearer(world.key)
            )
            (row,) = r.json()["items"]
            return row  # type: ignore[no-any-return]

        async def settled() -> bool:
            remote = await world.remote()
            others = all(Decimal(remote[s]["price"]) == before[s][0] - 1 for s in skus if s != bad)
            return others and (await shown())["status"] in ("rejected", "paused")

        await eventually(settled, timeout=EVENT_TIMEOUT)
        row = await shown()
        detail = await world.client.get(f"/v1/listings/{row['id']}", headers=bearer(world.key))
        refusals = [i for i in detail.json()["issues"] if i["source"] == "push"]
        assert refusals
        for issue in refusals:
            assert issue["field"] == "price"
            assert issue["message"].startswith(f"field price of SKU {bad}: ")
            assert "Price is below the category floor" in issue["message"]
        assert Decimal((await world.remote())[bad]["price"]) == before[bad][0]
        listings = await world.listings(account_id)
        assert sum(r.status is ListingStatus.LIVE for r in listings) == 24
