from __future__ import annotations

from decimal import Decimal

import pytest

from odop_sync.listings.projection import PricingRule, available_to_sell, project_price, state_hash
from odop_sync.models.sync import Rounding
from tests.pricing import PRICE_CASES, STOCK_CASES, PriceCase, available, rule_price


class TestProjectPrice:
    def test_no_rule_sends_the_canonical_price(self) -> None:
        assert project_price(159_900, 185_000, PricingRule()).final_paise == 159_900

    def test_markup_then_rounding_to_a_price_ending_in_9(self) -> None:
        rule = PricingRule(markup_percent=Decimal("10"), rounding=Rounding.ENDS_IN_9)
        d = project_price(113_000, 200_000, rule)  # 1130 * 1.1 = 1243
        assert (d.marked_up_paise, d.final_paise) == (124_300, 124_900)

    def test_never_above_mrp(self) -> None:
        d = project_price(180_000, 185_000, PricingRule(markup_percent=Decimal("15")))
        assert (d.final_paise, d.clamped_by) == (185_000, "mrp")

    def test_never_below_the_floor(self) -> None:
        d = project_price(50_000, 90_000, PricingRule(floor_paise=60_000))
        assert (d.final_paise, d.clamped_by) == (60_000, "floor")

    def test_mrp_wins_over_a_floor_above_it(self) -> None:
        d = project_price(50_000, 55_000, PricingRule(floor_paise=60_000))
        assert d.final_paise == 55_000

    def test_fixed_markup_and_whole_rupees(self) -> None:
        rule = PricingRule(markup_fixed_paise=4_950, rounding=Rounding.RUPEE)
        assert project_price(100_000, 200_000, rule).final_paise == 105_000


class TestHandWorkedTable:
    """The cases worked by hand in tests/pricing.py, through the service's projection and through
    the tests' own plain reading of the rule (which the sync tests use for whole catalogs)."""

    @pytest.mark.parametrize("case", PRICE_CASES, ids=lambda c: c.why)
    def test_project_price(self, case: PriceCase) -> None:
        rule = PricingRule(
            markup_percent=Decimal(case.markup_percent),
            markup_fixed_paise=case.markup_fixed,
            rounding=Rounding(case.rounding),
            floor_paise=case.floor,
        )
        assert project_price(case.price, case.mrp, rule).final_paise == case.expected

    @pytest.mark.parametrize("case", PRICE_CASES, ids=lambda c: c.why)
    def test_the_tests_own_rule(self, case: PriceCase) -> None:
        got = rule_price(
            Decimal(case.price) / 100,
            Decimal(case.mrp) / 100,
            markup_percent=case.markup_percent,
            markup_fixed=Decimal(case.markup_fixed) / 100,
            rounding=case.rounding,
            floor=Decimal(case.floor) / 100,
        )
        assert got == Decimal(case.expected) / 100

    @pytest.mark.parametrize(("on_hand", "reserved", "buffer", "expected"), STOCK_CASES)
    def test_available_to_sell(
        self, on_hand: int, reserved: int, buffer: int, expected: int
    ) -> None:
        assert available_to_sell(on_hand, reserved, buffer).available_to_sell == expected
        assert available(on_hand, reserved, buffer) == expected


class TestAvailableToSell:
    def test_on_hand_less_reservations_less_buffer(self) -> None:
        assert available_to_sell(10, 3, 2).available_to_sell == 5

    def test_never_negative(self) -> None:
        assert available_to_sell(2, 3, 1).available_to_sell == 0


class TestStateHash:
    def test_key_order_does_not_matter_and_values_do(self) -> None:
        assert state_hash({"a": 1, "b": "₹"}) == state_hash({"b": "₹", "a": 1})
        assert state_hash({"a": 1}) != state_hash({"a": 2})
