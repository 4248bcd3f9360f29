"""The demo catalog reaches the Amazon sandbox with the account's price and stock rules, and a
change to one SKU follows without waiting for any schedule (how fast is bench/sync's figure)."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import pytest

from odop_sync.models import ListingStatus
from tests.conftest import bearer
from tests.sync.conftest import (
    EVENT_TIMEOUT,
    MARKETPLACES,
    MakeWorld,
    World,
    assert_no_schedule_fires,
    eventually,
)


async def _assert_converged(world: World, account_id: int) -> None:
    expected = await world.expected(account_id)
    remote = await world.remote()
    assert set(remote) == set(expected)
    for sku, (price, quantity) in expected.items():
        assert Decimal(remote[sku]["price"]) == price, sku
        assert remote[sku]["quantity"] == quantity, sku


class TestEndToEnd:
    async def test_one_sync_puts_every_demo_variant_on_amazon(self, make_world: MakeWorld) -> None:
        world = await make_world()
        account_id = await world.create_account()
        run = await world.sync_now(account_id)
        assert run["status"] == "done", run
        await _assert_converged(world, account_id)
        listings = await world.listings(account_id)
        assert len(listings) == 79
        assert {row.status for row in listings} == {ListingStatus.LIVE}
        # 79 SKUs are above the bulk threshold: they went as one JSON_LISTINGS_FEED.
        assert world.sandbox.call_count("createFeed") == 1
        assert world.sandbox.call_count("putListingsItem") == 0
        # By hand: ₹21,500 + 5 % = ₹22,575, up to the next rupee amount ending in 9 = ₹22,579;
        # 6 on hand less the account's buffer of 1 = 5.
        remote = await world.remote()
        assert Decimal(remote["BHD-CARPET-3X5-RED"]["price"]) == Decimal("22579")
        assert remote["BHD-CARPET-3X5-RED"]["quantity"] == 5
        assert Decimal(remote["BHD-CARPET-5X8-IVORY"]["price"]) == Decimal("57649")
        assert remote["BHD-CARPET-5X8-IVORY"]["quantity"] == 1
        # Every listing is confirmed: its confirmed hashes are its desired ones.
        for row in listings:
            assert row.confirmed_content_hash == row.desired_content_hash
            assert row.confirmed_offer_hash == row.desired_offer_hash
            assert row.dirty_since is None

    @pytest.mark.schedules_hours_apart
    @pytest.mark.parametrize("marketplace", MARKETPLACES)
    async def test_a_price_and_stock_change_reaches_the_marketplace_without_a_schedule(
        self, make_world: MakeWorld, marketplace: str
    ) -> None:
        world = await make_world(marketplace=marketplace)
        assert_no_schedule_fires(world.app)
        account_id = await world.create_account(rounding="none", markup_percent="0")
        assert (await world.sync_now(account_id))["status"] == "done"
        sku = sorted(await world.expected(account_id))[0]
        before = (await world.remote())[sku]
        new_price = (Decimal(before["price"]) - Decimal("10.50")).quantize(Decimal("0.01"))
        # Flipkart takes whole rupees: ₹x.50 goes out as ₹x.
        shown = new_price.to_integral_value(ROUND_FLOOR) if world.market.whole_rupees else new_price
        r = await world.client.patch(
            f"/v1/variants/{sku}",
            json={"price": str(new_price), "stock": 9},
            headers=bearer(world.key),
        )
        assert r.status_code == 200, r.text

        async def arrived() -> bool:
            row = (await world.remote())[sku]
            return Decimal(row["price"]) == shown and row["quantity"] == 8

        # No sweep comes for hours: only the PATCH's own wake-up can bring it.
        await eventually(arrived, timeout=EVENT_TIMEOUT)
        # The offer calls carried it, not the full listing again.
        if marketplace == "amazon":
            assert world.sandbox.call_count("patchListingsItem") >= 1
            assert world.sandbox.call_count("createFeed") == 1
        else:
            assert world.sandbox.call_count("updatePrice") >= 1
            assert world.sandbox.call_count("updateInventory") >= 1
            assert world.sandbox.call_count("updateListings") == 0

    @pytest.mark.schedules_hours_apart
    async def test_a_price_change_reaches_amazon_and_flipkart_without_a_schedule(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world()
        assert_no_schedule_fires(world.app)
        accounts = {
            slug: await world.create_account(slug, rounding="rupee", markup_percent="0")
            for slug in MARKETPLACES
        }
        done = await world.sync_now(None)  # every account of the agency
        assert done["status"] == "done", done
        sku = "LKO-CHIKAN-KURTA-W-M"
        for slug, account_id in accounts.items():
            assert sku in await world.expected(account_id), slug
        r = await world.client.patch(
            f"/v1/variants/{sku}", json={"price": "1234.00"}, headers=bearer(world.key)
        )
        assert r.status_code == 200, r.text

        async def everywhere() -> bool:
            for slug in MARKETPLACES:
                if Decimal((await world.remote(slug))[sku]["price"]) != Decimal(1234):
                    return False
            return True

        await eventually(everywhere, timeout=EVENT_TIMEOUT)


class TestFlipkartEndToEnd:
    @pytest.mark.schedules_hours_apart
    async def test_one_sync_lists_every_mapped_demo_variant_and_parks_the_unmapped(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world(marketplace="flipkart")
        assert_no_schedule_fires(world.app)  # "by itself" below is the PATCH's own doing
        account_id = await world.create_account()
        run = await world.sync_now(account_id)
        assert run["status"] == "done", run
        await _assert_converged(world, account_id)
        listings = {row.sku: row for row in await world.listings(account_id)}
        assert len(listings) == 79
        unmapped = {"SRE-SIDE-TABLE-OCT", "BHR-BASKET-LID-8IN"}
        assert {
            s for s, row in listings.items() if row.status is not ListingStatus.LIVE
        } == unmapped
        assert {listings[s].status for s in unmapped} == {ListingStatus.NEEDS_MAPPING}
        # Ten SKUs a call at the most, each mapped SKU created once.
        sizes = world.sandbox.batch_sizes  # type: ignore[union-attr]
        assert max(sizes["createListings"]) <= 10
        assert sum(sizes["createListings"]) == 77
        remote = await world.remote()
        # ₹21,500 + 5 % = ₹22,575 → ₹22,579 (ends in 9); 6 on hand less a buffer of 1.
        assert (
            remote["BHD-CARPET-3X5-RED"]["price"],
            remote["BHD-CARPET-3X5-RED"]["quantity"],
        ) == (
            "22579",
            5,
        )
        carpet = remote["BHD-CARPET-5X8-IVORY"]  # woven to order, in 21 days
        assert (carpet["procurementType"], carpet["dispatchSla"]) == ("MADE_TO_ORDER", 21)
        assert remote["BHD-CARPET-3X5-RED"]["procurementType"] == "REGULAR"
        assert remote["BHD-CARPET-3X5-RED"]["packages"][0]["dimensions"] == {
            "length": 155.0,
            "breadth": 32.0,
            "height": 32.0,
        }

        # The reason is on the unmapped listing's timeline, and it is left alone: no retry
        # loop, no backoff, not even after a price change.
        table = listings["SRE-SIDE-TABLE-OCT"]
        page = await world.client.get(
            f"/v1/listings?account_id={account_id}&sku={table.sku}", headers=bearer(world.key)
        )
        (shown,) = page.json()["items"]
        assert shown["status"] == "needs_mapping"
        assert shown["next_attempt_at"] is None
        assert "FSN" in shown["latest_issue"]["message"]
        assert table.sku in shown["latest_issue"]["message"]
        writes = ("createListings", "updateListings", "updatePrice", "updateInventory")

        def written() -> int:
            return sum(world.sandbox.call_count(op) for op in writes)

        calls = written()
        r = await world.client.patch(
            f"/v1/variants/{table.sku}", json={"price": "9499.00"}, headers=bearer(world.key)
        )
        assert r.status_code == 200, r.text
        assert (await world.sync_now(account_id))["status"] == "done"
        assert written() == calls  # nothing was pushed for it (reads for reconciling may be)
        timeline = (
            await world.client.get(f"/v1/listings/{shown['id']}", headers=bearer(world.key))
        ).json()["issues"]
        assert len(timeline) == 1

        # Mapped at last: it goes live by itself.
        r = await world.client.patch(
            f"/v1/variants/{table.sku}",
            json={
                "attributes": {
                    "made_to_order": True,
                    "made_to_order_days": 15,
                    "marketplaces": {"flipkart": {"fsn": "SHPTBLOCT8SRE015"}},
                }
            },
            headers=bearer(world.key),
        )
        assert r.status_code == 200, r.text

        async def live() -> bool:
            rows = {row.sku: row for row in await world.listings(account_id)}
            return rows[table.sku].status is ListingStatus.LIVE

        await eventually(live, timeout=EVENT_TIMEOUT)
        listed = (await world.remote())[table.sku]
        assert listed["fsn"] == "SHPTBLOCT8SRE015"
        assert (listed["procurementType"], listed["dispatchSla"]) == ("MADE_TO_ORDER", 15)
