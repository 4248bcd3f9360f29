"""The demo catalog reaches the Amazon sandbox with the account's price and stock rules, and a
change to one SKU follows within seconds, without waiting for any schedule."""

from __future__ import annotations

import time
from decimal import Decimal

from odop_sync.models import ListingStatus
from tests.conftest import bearer
from tests.sync.conftest import MakeWorld, World, eventually


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

    async def test_a_price_and_stock_change_reaches_amazon_within_two_seconds(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world()
        account_id = await world.create_account(rounding="none", markup_percent="0")
        assert (await world.sync_now(account_id))["status"] == "done"
        sku = sorted(await world.expected(account_id))[0]
        before = (await world.remote())[sku]
        new_price = (Decimal(before["price"]) - Decimal("10.50")).quantize(Decimal("0.01"))
        started = time.monotonic()
        r = await world.client.patch(
            f"/v1/variants/{sku}",
            json={"price": str(new_price), "stock": 9},
            headers=bearer(world.key),
        )
        assert r.status_code == 200, r.text

        async def arrived() -> bool:
            row = (await world.remote())[sku]
            return Decimal(row["price"]) == new_price and row["quantity"] == 8

        await eventually(arrived, timeout=2.0)
        assert time.monotonic() - started < 2.0
        # The item API carried it, not another feed.
        assert world.sandbox.call_count("patchListingsItem") >= 1
        assert world.sandbox.call_count("createFeed") == 1
