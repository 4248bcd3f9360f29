"""Listings V3 batching: ten SKUs a call at the most, and a per-SKU status inside every 200."""

from __future__ import annotations

from adapters.flipkart.sandbox import SANDBOX_SELLER, FlipkartSandbox

from odop_sync.adapter_sdk import NEEDS_CATALOG_MAPPING, ItemStatus, Money, OfferUpdate
from tests.adapters.flipkart.conftest import FSN, TIME_SCALE, flipkart_env, listing

SKUS = [f"ODOP-{n:03d}" for n in range(25)]


def offers(rupees: int) -> list[OfferUpdate]:
    return [
        OfferUpdate(
            sku=sku,
            price=Money(amount=(rupees + n) * 100),
            mrp=Money(amount=1_499_900),
            quantity=n,
            marketplace_attributes={"fsn": FSN},
        )
        for n, sku in enumerate(SKUS)
    ]


def remote(sandbox: FlipkartSandbox) -> dict[str, dict[str, object]]:
    return sandbox.state.table(SANDBOX_SELLER, "listings")


class TestOfferBatches:
    async def test_25_offer_updates_go_out_as_three_calls_of_10_10_and_5(self) -> None:
        sandbox = FlipkartSandbox(time_scale=TIME_SCALE)
        async with flipkart_env(sandbox) as env:
            await env.adapter.push_listings([listing(sku) for sku in SKUS])
            results = await env.adapter.push_offers(offers(9000))
        assert [r.sku for r in results] == SKUS
        assert {r.status for r in results} == {ItemStatus.ACCEPTED}
        # Price and stock are two Flipkart calls, each batched the same way.
        assert sandbox.batch_sizes["updatePrice"] == [10, 10, 5]
        assert sandbox.batch_sizes["updateInventory"] == [10, 10, 5]
        assert sandbox.call_count("getListings") == 3  # the content push only: offers carry FSNs
        assert remote(sandbox)["ODOP-024"]["price"] == {
            "mrp": 14999,
            "selling_price": 9024,
            "currency": "INR",
        }
        assert remote(sandbox)["ODOP-024"]["locations"][0]["inventory"] == 24

    async def test_a_failed_sku_in_the_middle_of_a_call_leaves_the_other_nine_confirmed(
        self,
    ) -> None:
        sandbox = FlipkartSandbox(time_scale=TIME_SCALE)
        bad = SKUS[14]  # the fifth SKU of the second call
        async with flipkart_env(sandbox) as env:
            await env.adapter.push_listings([listing(sku) for sku in SKUS])
            sandbox.faults.reject(
                [bad], field="price.selling_price", message="Price is below the category floor"
            )
            results = await env.adapter.push_offers(offers(9000))
        by_sku = {r.sku: r for r in results}
        assert [r.sku for r in results] == SKUS
        assert by_sku[bad].status is ItemStatus.REJECTED
        (issue,) = by_sku[bad].issues  # the price call refused it; its stock call went through
        assert issue.field == "price"
        assert issue.message.startswith(f"field price of SKU {bad}: ")
        assert "Price is below the category floor" in issue.message
        second_call = SKUS[10:20]
        for sku in (s for s in SKUS if s != bad):
            assert by_sku[sku].status is ItemStatus.ACCEPTED, sku
        for sku in second_call:
            price = remote(sandbox)[sku]["price"]["selling_price"]  # type: ignore[index]
            assert (price == 9000 + SKUS.index(sku)) is (sku != bad), sku
        assert sandbox.batch_sizes["updatePrice"] == [10, 10, 5]

    async def test_offers_without_an_fsn_read_it_from_flipkart(self) -> None:
        sandbox = FlipkartSandbox(time_scale=TIME_SCALE)
        async with flipkart_env(sandbox) as env:
            await env.adapter.push_listings([listing("A-1"), listing("A-2")])
            before = sandbox.call_count("getListings")
            results = await env.adapter.push_offers(
                [
                    OfferUpdate(sku="A-1", price=Money(amount=100_000)),
                    OfferUpdate(sku="NOT-LISTED", price=Money(amount=100_000)),
                ]
            )
        assert sandbox.call_count("getListings") == before + 1
        assert [r.status for r in results] == [ItemStatus.ACCEPTED, ItemStatus.REJECTED]
        assert results[1].issues[0].code == "NOT_LISTED"
        assert sandbox.batch_sizes["updateInventory"] == []  # no quantity, no stock call


class TestListingBatches:
    async def test_new_skus_are_created_and_known_ones_updated(self) -> None:
        sandbox = FlipkartSandbox(time_scale=TIME_SCALE)
        async with flipkart_env(sandbox) as env:
            await env.adapter.push_listings([listing(sku) for sku in SKUS[:12]])
            results = await env.adapter.push_listings([listing(sku) for sku in SKUS])
        assert {r.status for r in results} == {ItemStatus.ACCEPTED}
        # 12 known, 13 new, in calls of ten: [10 known], [2 known + 8 new], [5 new].
        assert sandbox.batch_sizes["createListings"] == [10, 2, 8, 5]
        assert sandbox.batch_sizes["updateListings"] == [10, 2]
        assert {r.remote_id for r in results} == {FSN}

    async def test_a_variant_without_an_fsn_needs_mapping_and_is_not_sent(self) -> None:
        sandbox = FlipkartSandbox(time_scale=TIME_SCALE)
        async with flipkart_env(sandbox) as env:
            results = await env.adapter.push_listings(
                [listing("MAPPED"), listing("UNMAPPED", fsn=None), listing("TYPO", fsn="12345")]
            )
        assert [r.status for r in results] == [ItemStatus.ACCEPTED] + [ItemStatus.REJECTED] * 2
        for result in results[1:]:
            (issue,) = result.issues
            assert issue.code == NEEDS_CATALOG_MAPPING
            assert issue.field == "attributes.marketplaces.flipkart.fsn"
            assert f"SKU {result.sku}" in issue.message
        assert sandbox.batch_sizes["createListings"] == [1]
        assert sandbox.listing_skus(SANDBOX_SELLER) == {"MAPPED"}

    async def test_an_fsn_flipkart_does_not_know_needs_mapping_too(self) -> None:
        sandbox = FlipkartSandbox(time_scale=TIME_SCALE, catalog=[FSN])
        async with flipkart_env(sandbox) as env:
            (result,) = await env.adapter.push_listings([listing("X", fsn="ZZZZZZZZZZZZZZZZ")])
        assert result.status is ItemStatus.REJECTED
        assert result.issues[0].code == NEEDS_CATALOG_MAPPING
        assert "Flipkart 1001" in result.issues[0].message

    async def test_states_come_back_per_sku_with_price_and_stock_at_the_location(self) -> None:
        sandbox = FlipkartSandbox(time_scale=TIME_SCALE)
        async with flipkart_env(sandbox) as env:
            await env.adapter.push_listings([listing(sku) for sku in SKUS[:11]])
            states = await env.adapter.fetch_listing_states([*SKUS[:11], "GONE", "bad sku!"])
            listed = await env.adapter.listed_skus()  # type: ignore[attr-defined]
        assert [s.sku for s in states] == [*SKUS[:11], "GONE", "bad sku!"]
        assert states[0].price == Money(amount=1_249_900)
        assert (states[0].quantity, states[0].remote_id, states[0].status) == (4, FSN, "ACTIVE")
        assert [s.status for s in states[-2:]] == ["MISSING", "INVALID"]
        assert listed == dict.fromkeys(SKUS[:11], FSN)
        assert sandbox.call_count("getListings") == 2 + 2  # two to push, two to read
