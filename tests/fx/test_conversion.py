"""The conversion of a finished payload into the account's currency, and which rate a day uses
and when it is too old, worked by hand.

A rate is INR per 1 unit (US$1 = ₹84.12); both currencies count hundredths, so
cents = paise ÷ rate, rounded half up to a whole cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from odop_sync.adapter_sdk import B2BTerms, ListingPayload, Money, OfferUpdate, PriceTier
from odop_sync.fx.rates import FxQuote, RateUsed
from odop_sync.sync.desired import convert_amounts

RBI = RateUsed("USD", Decimal("84.12"), "RBI", date(2026, 12, 2))
HOW = (
    "set one with `odop-sync fx set USD <rate> --source <source> --date <date>` "
    "or POST /v1/fx/rates"
)


def payload(**extra: object) -> ListingPayload:
    fields: dict[str, object] = {
        "sku": "BHD-RUG-RED",
        "product_ref": "BHD-RUG",
        "title": "Bhadohi hand-knotted carpet",
        "brand": "Ramesh Kumar Maurya",
        "hsn_code": "5701",
        "gst_rate": Decimal(5),
        "mrp": Money(amount=220_000),
        "price": Money(amount=185_000),
        "quantity": 3,
    }
    return ListingPayload.model_validate({**fields, **extra})


class TestConvertAmounts:
    def test_price_and_mrp_of_a_listing_and_an_offer(self) -> None:
        converted = convert_amounts(payload(), RBI)
        # ₹1,850.00 / 84.12 = 2199.24 → 2199 cents; ₹2,200.00 / 84.12 = 2615.31 → 2615.
        assert converted.price == Money(amount=2199, currency="USD")
        assert converted.mrp == Money(amount=2615, currency="USD")
        assert converted.b2b is None
        assert (converted.sku, converted.quantity, converted.title) == (
            "BHD-RUG-RED", 3, "Bhadohi hand-knotted carpet"
        )  # fmt: skip
        offer = OfferUpdate(
            sku="BHD-RUG-RED", price=Money(amount=185_000), mrp=Money(amount=220_000), quantity=3
        )
        assert convert_amounts(offer, RBI) == OfferUpdate(
            sku="BHD-RUG-RED",
            price=Money(amount=2199, currency="USD"),
            mrp=Money(amount=2615, currency="USD"),
            quantity=3,
        )

    def test_every_b2b_tier_price_too(self) -> None:
        terms = B2BTerms(
            moq=2,
            moq_unit="piece",
            price_tiers=(
                PriceTier(min_quantity=2, max_quantity=49, price=Money(amount=185_000)),
                PriceTier(min_quantity=50, max_quantity=199, price=Money(amount=170_000)),
                PriceTier(min_quantity=200, price=Money(amount=155_000)),
            ),
            port_of_loading="Mumbai (Nhava Sheva)",
        )
        converted = convert_amounts(payload(b2b=terms), RBI)
        assert converted.b2b is not None
        # 185000 / 84.12 = 2199.24 → 2199; 170000 / 84.12 = 2020.92 → 2021;
        # 155000 / 84.12 = 1842.61 → 1843.
        assert [(t.min_quantity, t.max_quantity, t.price) for t in converted.b2b.price_tiers] == [
            (2, 49, Money(amount=2199, currency="USD")),
            (50, 199, Money(amount=2021, currency="USD")),
            (200, None, Money(amount=1843, currency="USD")),
        ]
        assert (converted.b2b.moq, converted.b2b.port_of_loading) == (2, "Mumbai (Nhava Sheva)")

    def test_half_a_cent_goes_up(self) -> None:
        two = RateUsed("USD", Decimal("2"), "RBI", date(2026, 12, 2))
        # ₹123.45 / 2 = 61.725 → 6172.5 cents → 6173; ₹123.43 / 2 = 6171.5 → 6172.
        converted = convert_amounts(payload(price=Money(amount=12_345)), two)
        assert converted.price.amount == 6173
        assert convert_amounts(payload(price=Money(amount=12_343)), two).price.amount == 6172

    def test_an_amount_already_in_the_currency_is_left_alone(self) -> None:
        offer = OfferUpdate(sku="X", price=Money(amount=2199, currency="USD"))
        assert convert_amounts(offer, RBI) == offer


class TestRateInForce:
    @pytest.mark.parametrize(
        ("valid_on", "held"),
        [
            (date(2026, 12, 3), None),  # today
            (date(2026, 11, 28), None),  # 5 days old: a weekend and a holiday
            (date(2026, 11, 27), "FX_RATE_STALE"),  # 6 days old
        ],
    )
    def test_at_most_max_age_days_old(self, valid_on: date, held: str | None) -> None:
        quote = FxQuote(
            "USD", date(2026, 12, 3), RBI.__class__("USD", RBI.rate, "RBI", valid_on), 5
        )
        assert (quote.hold.code if quote.hold else None) == held

    def test_the_reasons_in_plain_words(self) -> None:
        old = RateUsed("USD", Decimal("84.120000"), "RBI", date(2026, 11, 20))
        stale = FxQuote("USD", date(2026, 12, 3), old, 5).hold
        assert stale is not None
        assert stale.reason == (
            "no USD rate in force on 2026-12-03: the newest is 84.12 (RBI, 2026-11-20), older "
            f"than 5 days; {HOW}"
        )
        missing = FxQuote("USD", date(2026, 12, 3), None, 5).hold
        assert missing is not None and missing.code == "FX_RATE_MISSING"
        assert missing.reason == (
            f"no USD rate in force on 2026-12-03: none has been set for that day or before; {HOW}"
        )
