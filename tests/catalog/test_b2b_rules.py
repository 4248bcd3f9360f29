"""The B2B (wholesale, export) fields of a batch row, as issue 13 and the batch contract state
them: what is accepted and stored, and what each rule rejects, naming the row and field.

Expected values are written out by hand: the tiers `2-49:1850|50-199:1700|200+:1550` are
₹1,850, ₹1,700 and ₹1,550 a unit, i.e. 185000, 170000 and 155000 paise.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from odop_sync.catalog.b2b import LeadTime, PriceTier, WholesaleTerms
from odop_sync.catalog.districts import district_index
from odop_sync.catalog.rules import (
    ItemIn,
    Rules,
    b2b_warnings,
    gst_rates_in_force,
    product_fields,
    validate_item,
)
from odop_sync.kit.problems import FieldIssue

ROW = 4
TIERS_TEXT = "2-49:1850|50-199:1700|200+:1550"
TIERS_LIST = [
    {"min_quantity": 2, "max_quantity": 49, "price": "1850"},
    {"min_quantity": 50, "max_quantity": 199, "price": "1700"},
    {"min_quantity": 200, "price": "1550"},
]
EXPECTED_TIERS = (
    PriceTier(min_quantity=2, max_quantity=49, price_paise=185000),
    PriceTier(min_quantity=50, max_quantity=199, price_paise=170000),
    PriceTier(min_quantity=200, max_quantity=None, price_paise=155000),
)
EXPECTED_LEADS = (
    LeadTime(max_quantity=50, days=15),
    LeadTime(max_quantity=200, days=30),
    LeadTime(max_quantity=None, days=45),
)


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules(gst_rates=gst_rates_in_force(date(2025, 10, 1)), districts=district_index())


def carpet(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "sku": "BHD-RUG-5X8-RED",
        "product_ref": "BHD-RUG-5X8",
        "producer_ref": "exp-bhd",
        "title_en": "Bhadohi hand-knotted wool rug, 5 x 8 ft",
        "district": "Bhadohi",
        "craft": "Hand-knotted carpet",
        "hsn_code": "570110",
        "gst_rate": 5,
        "mrp": "62000",
        "price": "54900",
        "stock": 3,
        "images": ["https://cdn.example.org/rug.jpg"],
        "b2b_moq": 2,
        "b2b_moq_unit": "square_metre",
        "b2b_price_tiers": TIERS_TEXT,
        "b2b_supply_per_month": 300,
        "b2b_lead_times": "1-50:15|51-200:30|201+:45",
        "b2b_port_of_loading": "Nhava Sheva (Mumbai)",
        "b2b_payment_terms": "TT|LC",
        "export_hs_code": "57011010",
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


def valid(raw: dict[str, Any], rules: Rules) -> ItemIn:
    result = validate_item(raw, ROW, rules)
    assert isinstance(result, ItemIn), result
    return result


def issues(raw: dict[str, Any], rules: Rules) -> list[tuple[int | None, str | None, str]]:
    result = validate_item(raw, ROW, rules)
    assert isinstance(result, list), f"accepted: {result}"
    return [(i.row, i.field, i.message) for i in result]


def only_issue(raw: dict[str, Any], rules: Rules, field: str) -> str:
    found = issues(raw, rules)
    assert [(row, f) for row, f, _ in found] == [(ROW, field)], found
    return found[0][2]


class TestAccepted:
    def test_the_full_terms_are_stored_canonical(self, rules: Rules) -> None:
        item = valid(carpet(), rules)
        assert item.b2b == WholesaleTerms(
            moq=2,
            moq_unit="square_metre",
            price_tiers=EXPECTED_TIERS,
            supply_per_month=300,
            lead_times=EXPECTED_LEADS,
            port_of_loading="Nhava Sheva (Mumbai)",
            payment_terms=("TT", "LC"),
            export_hs_code="57011010",
        )

    def test_a_row_without_b2b_fields_has_no_terms_and_hashes_as_before(self, rules: Rules) -> None:
        without = {k: v for k, v in carpet().items() if not k.startswith(("b2b_", "export_"))}
        item = valid(without, rules)
        assert item.b2b is None
        assert "b2b" not in item.to_json()

    def test_only_the_three_required_fields(self, rules: Rules) -> None:
        raw = carpet(
            b2b_supply_per_month=None,
            b2b_lead_times=None,
            b2b_port_of_loading=None,
            b2b_payment_terms=None,
            export_hs_code=None,
        )
        terms = valid(raw, rules).b2b
        assert terms == WholesaleTerms(moq=2, moq_unit="square_metre", price_tiers=EXPECTED_TIERS)

    def test_the_json_list_forms_equal_the_text_forms(self, rules: Rules) -> None:
        text = valid(carpet(), rules)
        listed = valid(
            carpet(
                b2b_price_tiers=TIERS_LIST,
                b2b_lead_times=[
                    {"max_quantity": 50, "days": 15},
                    {"max_quantity": 200, "days": 30},
                    {"days": 45},
                ],
                b2b_payment_terms=["LC", "TT"],
            ),
            rules,
        )
        assert listed.b2b == text.b2b
        assert listed.content_hash() == text.content_hash()

    def test_sheet_cells_as_text(self, rules: Rules) -> None:
        # A CSV gives every cell as text; an XLSX number cell drops the HS code's leading zero
        # only for chapters 01-09 (not here).
        raw = carpet(b2b_moq="2", b2b_supply_per_month="1,000", export_hs_code="5701.10.10")
        terms = valid(raw, rules).b2b
        assert terms is not None
        assert (terms.moq, terms.supply_per_month, terms.export_hs_code) == (2, 1000, "57011010")

    @pytest.mark.parametrize(
        ("typed", "unit"),
        [
            ("pcs", "piece"),
            ("Pieces", "piece"),
            ("sq m", "square_metre"),
            ("sqm", "square_metre"),
            ("m2", "square_metre"),
            ("Square Meter", "square_metre"),
            ("square metres", "square_metre"),
            ("kg", "kilogram"),
            ("KGS", "kilogram"),
            ("doz", "dozen"),
            ("pairs", "pair"),
            ("Set", "set"),
            ("ctns", "carton"),
            ("mtr", "metre"),
            ("वर्ग मीटर", "square_metre"),
        ],
    )
    def test_common_unit_spellings(self, rules: Rules, typed: str, unit: str) -> None:
        terms = valid(carpet(b2b_moq_unit=typed), rules).b2b
        assert terms is not None and terms.moq_unit == unit

    @pytest.mark.parametrize(
        ("typed", "terms"),
        [
            ("T/T|L/C", ("TT", "LC")),
            ("LC|TT", ("TT", "LC")),  # one canonical order: the same terms hash the same
            ("Western Union, PayPal", ("western_union", "paypal")),
            ("D/P|D/A", ("DP", "DA")),
            ("letter of credit", ("LC",)),
        ],
    )
    def test_payment_term_spellings(self, rules: Rules, typed: str, terms: tuple[str, ...]) -> None:
        found = valid(carpet(b2b_payment_terms=typed), rules).b2b
        assert found is not None and found.payment_terms == terms

    def test_tiers_with_spaces_rupee_signs_and_line_breaks(self, rules: Rules) -> None:
        typed = "2 - 49 : ₹1,850\n50-199: 1700.00 |\n200 + : Rs. 1550"
        terms = valid(carpet(b2b_price_tiers=typed), rules).b2b
        assert terms is not None and terms.price_tiers == EXPECTED_TIERS

    def test_a_closed_last_tier_and_a_first_tier_above_the_moq(self, rules: Rules) -> None:
        terms = valid(carpet(b2b_price_tiers="5-49:1850|50-199:1700"), rules).b2b
        assert terms is not None
        assert [(t.min_quantity, t.max_quantity) for t in terms.price_tiers] == [
            (5, 49),
            (50, 199),
        ]


class TestRequiredTogether:
    def test_one_b2b_field_asks_for_moq_unit_and_tiers(self, rules: Rules) -> None:
        raw = carpet(b2b_moq=None, b2b_moq_unit=None, b2b_price_tiers=None)
        found = issues(raw, rules)
        assert [(row, field) for row, field, _ in found] == [
            (ROW, "b2b_moq"),
            (ROW, "b2b_moq_unit"),
            (ROW, "b2b_price_tiers"),
        ]
        assert all("this row gives b2b_supply_per_month" in m for _, _, m in found)

    def test_an_export_hs_code_alone_is_not_enough(self, rules: Rules) -> None:
        raw = {k: v for k, v in carpet().items() if not k.startswith("b2b_")}
        found = issues(raw, rules)
        assert {field for _, field, _ in found} == {"b2b_moq", "b2b_moq_unit", "b2b_price_tiers"}

    def test_tiers_without_moq(self, rules: Rules) -> None:
        message = only_issue(carpet(b2b_moq=None), rules, "b2b_moq")
        assert message.startswith("is required when a product has B2B terms")


class TestRejected:
    @pytest.mark.parametrize(
        ("tiers", "words"),
        [
            # not ascending
            ("50-199:1700|2-49:1850", "tier 2 (2-49) starts below tier 1 (50-199)"),
            # overlapping
            ("2-49:1850|40-199:1700", "tier 2 (40-199) overlaps tier 1 (2-49); start it at 50"),
            # a gap: orders of 50-59 would have no price
            (
                "2-49:1850|60-199:1700",
                "orders of 50-59 units have no price; start tier 2 at 50",
            ),
            # an open-ended tier before the last
            ("2+:1850|50-199:1700", "tier 1 (2+) has no upper quantity but is not the last"),
            # a tier that ends before it starts
            ("2-49:1850|50-40:1700", "tier 2 ends at 40, below its start 50"),
            # lowest tier below the MOQ (2)
            ("1-49:1850|50+:1700", "tier 1 (1-49) starts below the minimum order quantity 2"),
            # five tiers: Alibaba.com's ladder has four
            (
                "2-9:1900|10-49:1850|50-99:1800|100-199:1700|200+:1550",
                "5 price tiers; at most 4 are allowed (Alibaba.com's quantity price ladder",
            ),
            # a price of 0, and one with three decimals
            ("2-49:0|50+:1700", "tier 1: the price must be more than 0"),
            ("2-49:1850.505|50+:1700", "tier 1: the price has more than 2 decimal places"),
            # not the pattern at all
            ("2-49 1850", "tier 1 ('2-49 1850') is not like the example"),
            ("50:1700", "tier 1 ('50:1700') is not like the example"),
        ],
    )
    def test_price_tier_rules(self, rules: Rules, tiers: str, words: str) -> None:
        message = only_issue(carpet(b2b_price_tiers=tiers), rules, "b2b_price_tiers")
        assert words in message

    def test_each_ladder_problem_is_named(self, rules: Rules) -> None:
        found = issues(carpet(b2b_price_tiers="1-49:1850|40-199:1700|250+:1550"), rules)
        assert [m for _, f, m in found if f == "b2b_price_tiers"] == [
            "tier 2 (40-199) overlaps tier 1 (1-49); start it at 50",
            "tier 3 (250+) starts at 250 but tier 2 ends at 199: orders of 200-249 units have "
            "no price; start tier 3 at 200",
            "tier 1 (1-49) starts below the minimum order quantity 2 (b2b_moq); start it at 2 "
            "or more",
        ]

    @pytest.mark.parametrize(
        ("tiers", "words"),
        [
            ([{"min_quantity": 2, "price": "1850"}, "50+:1700"], "tier 2 must be an object"),
            ([{"min_quantity": 2, "max_quantity": 49}], "tier 1 has no price"),
            ([{"min_quantity": 2, "qty": 49, "price": 1}], "tier 1 has an unknown key 'qty'"),
            ([{"min_quantity": 0, "price": "1850"}], "tier 1: 0 is not a quantity"),
            ({"2-49": 1850}, "write the tiers like 2-49:1850"),
        ],
    )
    def test_the_json_list_form(self, rules: Rules, tiers: Any, words: str) -> None:
        message = only_issue(carpet(b2b_price_tiers=tiers), rules, "b2b_price_tiers")
        assert words in message

    @pytest.mark.parametrize(
        ("moq", "words"),
        [(0, "must be 1 or more"), ("2.5", "must be a whole number"), (True, "whole number")],
    )
    def test_moq(self, rules: Rules, moq: Any, words: str) -> None:
        assert words in only_issue(carpet(b2b_moq=moq), rules, "b2b_moq")

    def test_unknown_unit(self, rules: Rules) -> None:
        message = only_issue(carpet(b2b_moq_unit="bag"), rules, "b2b_moq_unit")
        assert message == (
            "'bag' is not a unit we know; use one of piece, pair, set, dozen, square_metre, "
            "metre, kilogram, carton"
        )

    @pytest.mark.parametrize("supply", [0, "-5", "lots"])
    def test_supply_per_month(self, rules: Rules, supply: Any) -> None:
        only_issue(carpet(b2b_supply_per_month=supply), rules, "b2b_supply_per_month")

    @pytest.mark.parametrize(
        ("leads", "words"),
        [
            ("1-50:15|51-200:30|201+:400", "lead time 3: '400' days; use 1 to 365 days"),
            ("1-50:0", "lead time 1: '0' days"),
            ("1-50:15|40-200:30", "lead time 2 starts at 40 but lead time 1 ends at 50"),
            ("1-50:15|61-200:30", "start it at 51"),
            ("1+:15|51-200:30", "lead time 1 has no upper quantity but is not the last"),
            ("5-50:15|51+:30", "lead time 1 starts at 5, above the minimum order quantity 2"),
            (
                [{"max_quantity": 200, "days": 30}, {"max_quantity": 50, "days": 15}],
                "lead time 2 (up to 50) does not go beyond lead time 1 (up to 200)",
            ),
            ([{"max_quantity": 50}], "lead time 1 has no days"),
            ("fifteen days", "is not like the example"),
        ],
    )
    def test_lead_times(self, rules: Rules, leads: Any, words: str) -> None:
        assert words in only_issue(carpet(b2b_lead_times=leads), rules, "b2b_lead_times")

    def test_port_of_loading_is_at_most_100_characters(self, rules: Rules) -> None:
        message = only_issue(carpet(b2b_port_of_loading="N" * 101), rules, "b2b_port_of_loading")
        assert message == "is 101 characters; at most 100 are allowed"

    def test_unknown_payment_term(self, rules: Rules) -> None:
        message = only_issue(carpet(b2b_payment_terms="TT|cheque"), rules, "b2b_payment_terms")
        assert message.startswith("'cheque' is not a payment term we know; use TT, LC, DP, DA")

    @pytest.mark.parametrize("code", ["5701101", "57011", "570110101", "HS570110", "5701 10 10 1"])
    def test_export_hs_code_has_6_8_or_10_digits(self, rules: Rules, code: str) -> None:
        message = only_issue(carpet(export_hs_code=code), rules, "export_hs_code")
        assert message.endswith("is not an HS code: use 6, 8 or 10 digits")

    def test_export_hs_code_only_where_it_differs_from_the_hsn(self, rules: Rules) -> None:
        message = only_issue(carpet(export_hs_code="570110"), rules, "export_hs_code")
        assert message.startswith("is the same as hsn_code")

    def test_b2b_problems_come_with_the_rows_other_problems(self, rules: Rules) -> None:
        found = issues(carpet(price="70000", b2b_moq_unit="bag"), rules)
        assert [field for _, field, _ in found] == ["b2b_moq_unit", "price"]


class TestWarnings:
    def test_a_larger_order_costing_more_per_unit_is_a_warning_not_a_rejection(
        self, rules: Rules
    ) -> None:
        raw = carpet(b2b_price_tiers="2-49:1850|50-199:1900|200+:1550")
        assert valid(raw, rules).b2b is not None
        assert b2b_warnings([(ROW, raw)], rules) == {
            ROW: [
                FieldIssue(
                    row=ROW,
                    field="b2b_price_tiers",
                    message="tier 2 (50-199) costs ₹1,900.00 a unit, more than tier 1 (2-49) at "
                    "₹1,850.00: a larger order usually costs less per unit; check the prices",
                )
            ]
        }

    def test_falling_prices_and_a_rejected_row_warn_nothing(self, rules: Rules) -> None:
        rising_but_rejected = carpet(b2b_price_tiers="2-49:1850|50+:1900", b2b_moq_unit="bag")
        assert b2b_warnings([(1, carpet()), (2, rising_but_rejected)], rules) == {}


class TestProductColumns:
    def test_rows_of_one_product_compare_the_canonical_terms(self, rules: Rules) -> None:
        text = product_fields(carpet(), rules)
        listed = product_fields(carpet(b2b_price_tiers=TIERS_LIST, b2b_moq_unit="sqm"), rules)
        assert text is not None and listed is not None
        assert text == listed
        assert text["b2b_price_tiers"] == "2-49:1850.00|50-199:1700.00|200+:1550.00"
        assert text["b2b_lead_times"] == "1-50:15|51-200:30|201+:45"
