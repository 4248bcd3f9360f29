"""B2B terms in the desired listing: only marketplaces whose adapter class `sells_b2b` get them
(ListingPayload.b2b, tier prices in INR paise), and for every other marketplace a product's new
terms change nothing: the same payload, the same content hash, no push.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from odop_sync.adapter_sdk import B2BTerms, LeadTime, Money, PriceTier
from odop_sync.listings.projection import PricingRule
from odop_sync.models import Listing, Producer, ProducerKind, Product, Variant
from odop_sync.sync.desired import AccountRules, project
from tests.api.helpers import wait_for_batch
from tests.conftest import bearer
from tests.sync.conftest import EVENT_TIMEOUT, MakeWorld, eventually

# products.b2b as the catalog stores `2-49:1850|50-199:1700|200+:1550` and friends.
STORED: dict[str, Any] = {
    "moq": 2,
    "moq_unit": "square_metre",
    "price_tiers": [
        {"min_quantity": 2, "max_quantity": 49, "price_paise": 185000},
        {"min_quantity": 50, "max_quantity": 199, "price_paise": 170000},
        {"min_quantity": 200, "max_quantity": None, "price_paise": 155000},
    ],
    "supply_per_month": 400,
    "lead_times": [
        {"max_quantity": 50, "days": 30},
        {"max_quantity": None, "days": 60},
    ],
    "port_of_loading": "Nhava Sheva (Mumbai)",
    "payment_terms": ["TT", "LC"],
    "export_hs_code": "57011010",
}
EXPECTED = B2BTerms(
    moq=2,
    moq_unit="square_metre",
    price_tiers=(
        PriceTier(min_quantity=2, max_quantity=49, price=Money(amount=185000, currency="INR")),
        PriceTier(min_quantity=50, max_quantity=199, price=Money(amount=170000, currency="INR")),
        PriceTier(min_quantity=200, max_quantity=None, price=Money(amount=155000, currency="INR")),
    ),
    supply_per_month=400,
    lead_times=(LeadTime(max_quantity=50, days=30), LeadTime(max_quantity=None, days=60)),
    port_of_loading="Nhava Sheva (Mumbai)",
    payment_terms=("TT", "LC"),
    export_hs_code="57011010",
)


def _rows(b2b: dict[str, Any] | None) -> tuple[Variant, Product, Producer]:
    producer = Producer(
        id=1, agency_id=1, ref="exp-bhd", kind=ProducerKind.EXPORTER, name_en="Gyanpur Exports"
    )
    product = Product(
        id=1,
        agency_id=1,
        producer_id=1,
        ref="BHD-RUG",
        title_en="Bhadohi hand-knotted rug",
        hsn_code="570110",
        gst_rate=Decimal(5),
        b2b=b2b,
    )
    variant = Variant(
        id=1,
        agency_id=1,
        product_id=1,
        sku="BHD-RUG-RED",
        mrp_paise=2_400_000,
        price_paise=2_150_000,
        stock_on_hand=3,
        images=["https://cdn.example.org/rug.jpg"],
        attributes={},
    )
    return variant, product, producer


def _rules(sells_b2b: bool) -> AccountRules:
    return AccountRules(
        account_id=1,
        adapter="b2b-test",
        pricing=PricingRule(),
        stock_buffer=0,
        sells_b2b=sells_b2b,
    )


class TestProjection:
    def test_a_b2b_marketplace_gets_the_terms_in_inr_paise(self) -> None:
        desired = project(*_rows(STORED), _rules(sells_b2b=True))
        assert desired.content.b2b == EXPECTED

    def test_a_b2b_marketplace_gets_none_for_a_product_without_terms(self) -> None:
        assert project(*_rows(None), _rules(sells_b2b=True)).content.b2b is None

    def test_other_marketplaces_see_no_terms_and_the_same_hashes(self) -> None:
        without = project(*_rows(None), _rules(sells_b2b=False))
        with_terms = project(*_rows(STORED), _rules(sells_b2b=False))
        assert with_terms.content.b2b is None
        assert with_terms.content == without.content
        assert (with_terms.content_hash, with_terms.offer_hash) == (
            without.content_hash,
            without.offer_hash,
        )

    def test_on_a_b2b_marketplace_a_changed_tier_is_new_content_not_a_new_offer(self) -> None:
        before = project(*_rows(STORED), _rules(sells_b2b=True))
        tiers = [dict(t) for t in STORED["price_tiers"]]
        tiers[1]["price_paise"] = 165000
        after = project(*_rows({**STORED, "price_tiers": tiers}), _rules(sells_b2b=True))
        assert after.content_hash != before.content_hash
        assert after.offer_hash == before.offer_hash


RUG: dict[str, Any] = {
    "sku": "BHD-RUG-TEST-1",
    "product_ref": "BHD-RUG-TEST",
    "producer_ref": "exp-bhd-gyanpur",
    "title_en": "Bhadohi hand-knotted wool rug, 4 x 6 ft",
    "description_en": "Hand-knotted New Zealand blend wool on a cotton warp.",
    "district": "Bhadohi",
    "craft": "Hand-knotted carpet",
    "hsn_code": "570110",
    "gst_rate": 5,
    "mrp": "32000",
    "price": "28500",
    "stock": 4,
    "images": ["https://cdn.example.org/rug-test.jpg"],
}
RUG_B2B = {
    "b2b_moq": 2,
    "b2b_moq_unit": "sq m",
    "b2b_price_tiers": "2-49:1850|50-199:1700|200+:1550",
    "b2b_lead_times": "1-50:30|51+:60",
}


async def _publish(world: Any, row: dict[str, Any], status: str) -> None:
    r = await world.client.post("/v1/batches", json={"items": [row]}, headers=bearer(world.key))
    assert r.status_code == 202, r.text
    batch = await wait_for_batch(world.client, world.key, r.json()["id"])
    assert [x["status"] for x in batch["rows"]] == [status], batch["rows"]


async def _listing(world: Any, account_id: int) -> Listing:
    [listing] = [x for x in await world.listings(account_id) if x.sku == RUG["sku"]]
    return listing


async def _confirmed(world: Any, account_id: int) -> Listing:
    """The rug's listing once the marketplace confirmed its desired content and offer."""

    async def done() -> bool:
        row = await _listing(world, account_id)
        return (
            row.desired_content_hash == row.confirmed_content_hash
            and row.desired_offer_hash == row.confirmed_offer_hash
        )

    await eventually(done, timeout=EVENT_TIMEOUT)
    return await _listing(world, account_id)


PUSHES = ("putListingsItem", "patchListingsItem", "createFeed")


def _pushes(world: Any) -> int:
    return sum(world.sandbox.call_count(op) for op in PUSHES)


class TestOnTheEngine:
    async def test_adding_b2b_terms_does_not_make_the_amazon_listing_dirty(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world(items=0)  # the demo producers only
        await _publish(world, RUG, "created")
        account_id = await world.create_account()
        assert (await world.sync_now(account_id))["status"] == "done"
        before = await _confirmed(world, account_id)
        pushes = _pushes(world)
        assert pushes >= 1

        await _publish(world, {**RUG, **RUG_B2B}, "updated")
        assert (await world.sync_now(account_id))["status"] == "done"
        after = await _listing(world, account_id)
        # Re-projected (the product's change was seen) to the very same content: not dirty,
        # and nothing went to Amazon again.
        assert after.source_changed_at is not None and before.source_changed_at is not None
        assert after.source_changed_at > before.source_changed_at
        assert after.desired_content_hash == before.desired_content_hash
        assert after.confirmed_content_hash == after.desired_content_hash
        assert after.dirty_since is None
        assert _pushes(world) == pushes

    async def test_an_adapter_class_that_sells_b2b_gets_the_terms(
        self, make_world: MakeWorld, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        world = await make_world(items=0)
        # The Amazon adapter class, as registered, made a B2B marketplace for this test only.
        monkeypatch.setattr(world.app.state.adapters["amazon"], "sells_b2b", True)
        await _publish(world, RUG, "created")
        account_id = await world.create_account()
        assert (await world.sync_now(account_id))["status"] == "done"
        before = await _confirmed(world, account_id)

        await _publish(world, {**RUG, **RUG_B2B}, "updated")
        assert (await world.sync_now(account_id))["status"] == "done"
        after = await _confirmed(world, account_id)
        assert after.desired_content_hash != before.desired_content_hash
        assert after.desired_offer_hash == before.desired_offer_hash
