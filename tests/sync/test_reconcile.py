"""The periodic full reconcile: what a seller changed or removed on the marketplace itself is found
by reading the listings back, said on the listing's timeline, and repaired by the next push."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from odop_sync.models import ListingIssue, ListingStatus
from tests.conftest import bearer
from tests.sync.conftest import MakeWorld, World


def _amazon_listings(world: World) -> Any:
    return world.sandbox.state.table(world.market.seller, "listings")


class TestReconcile:
    async def test_a_listing_removed_or_edited_on_amazon_is_put_back(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world(items=12)
        account_id = await world.create_account(rounding="none", markup_percent="0")
        assert (await world.sync_now(account_id))["status"] == "done"
        expected = await world.expected(account_id)
        removed, edited, untouched = sorted(expected)[:3]

        # The seller deletes one listing and sets another's stock by hand in Seller Central.
        listings = _amazon_listings(world)
        listings.pop(removed)
        row = listings[edited]
        availability = row["attributes"]["fulfillment_availability"]
        availability[0]["quantity"] = expected[edited][1] + 40
        listings[edited] = row
        assert removed not in await world.remote()
        puts_before = world.sandbox.call_count("putListingsItem")

        engine = world.app.state.sync
        await engine.sweep(full=True)  # what the sync.reconcile job runs
        await engine.wait_all_idle()

        remote = await world.remote()
        assert set(remote) == set(expected)
        for sku in (removed, edited, untouched):
            price, quantity = expected[sku]
            assert Decimal(remote[sku]["price"]) == price, sku
            assert remote[sku]["quantity"] == quantity, sku
        # Only the removed listing went out whole again.
        assert world.sandbox.call_count("putListingsItem") == puts_before + 1
        assert {row.status for row in await world.listings(account_id)} == {ListingStatus.LIVE}

        # Each repaired listing says why on its timeline; the untouched one says nothing.
        by_sku = {row.sku: row.id for row in await world.listings(account_id)}
        async with world.sessionmaker() as session:
            notes = {
                issue.listing_id: issue.message
                for issue in await session.scalars(
                    select(ListingIssue).where(ListingIssue.source == "reconcile")
                )
            }
        assert set(notes) == {by_sku[removed], by_sku[edited]}
        assert "no longer on Amazon" in notes[by_sku[removed]]
        assert (
            f"quantity {expected[edited][1] + 40} instead of {expected[edited][1]}"
            in (notes[by_sku[edited]])
        )
        r = await world.client.get(f"/v1/listings/{by_sku[edited]}", headers=bearer(world.key))
        assert r.status_code == 200, r.text
        assert any("changed outside odop-sync" in i["message"] for i in r.json()["issues"])

    async def test_a_reconcile_with_nothing_changed_pushes_nothing(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world(items=8)
        account_id = await world.create_account()
        assert (await world.sync_now(account_id))["status"] == "done"
        operations = (
            "searchListingsItems",
            "getListingsItem",
            "putListingsItem",
            "patchListingsItem",
            "createFeed",
        )
        before = {op: world.sandbox.call_count(op) for op in operations}
        engine = world.app.state.sync
        await engine.sweep(full=True)
        await engine.wait_all_idle()
        after = {op: world.sandbox.call_count(op) for op in operations}
        # The 8 SKUs were read back in one search (up to 20 SKUs a call, none one by one),
        # and nothing was written.
        assert after["searchListingsItems"] - before["searchListingsItems"] == 1
        for other in operations[1:]:
            assert after[other] == before[other], other

    async def test_stock_sold_down_on_amazon_before_the_order_is_pulled_is_not_put_back(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world(items=6)
        account_id = await world.create_account(rounding="none", markup_percent="0")
        assert (await world.sync_now(account_id))["status"] == "done"
        expected = await world.expected(account_id)
        sku = next(s for s, (_, quantity) in sorted(expected.items()) if quantity >= 2)
        # A sale on Amazon counts its quantity down before odop-sync has pulled the order.
        listings = _amazon_listings(world)
        row = listings[sku]
        row["attributes"]["fulfillment_availability"][0]["quantity"] = expected[sku][1] - 1
        listings[sku] = row
        puts = world.sandbox.call_count("patchListingsItem")

        engine = world.app.state.sync
        await engine.sweep(full=True)
        await engine.wait_all_idle()

        # Sending the old number back would let the last units sell twice.
        assert (await world.remote())[sku]["quantity"] == expected[sku][1] - 1
        assert world.sandbox.call_count("patchListingsItem") == puts
