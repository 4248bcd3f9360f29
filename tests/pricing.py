"""The documented price and stock rules, written out plainly for the tests, apart from the code
under test (`odop_sync.listings.projection`), and a table of cases worked out by hand.

The rules, as README ("How sync works", "Connecting a real marketplace account") and DESIGN §4
state them:

- an account's price is the canonical price with its markup (`markup_percent`, `markup_fixed`),
  then its rounding (`none`; `rupee`: to the nearest whole rupee; `ends_in_9`: ₹1,249 rather than
  ₹1,243, i.e. up to the next whole-rupee amount ending in 9), never below its `floor` and never
  above the MRP (the MRP wins over a floor above it: selling above the printed MRP is illegal);
- Flipkart takes whole rupees: the paise of a price are dropped;
- available_to_sell = on hand − open reservations − account buffer, floored at 0.

What the documents leave open, read here as follows (no demo price falls on any of these): a
half paisa or half rupee goes up; `ends_in_9` first takes the nearest whole rupee; the fixed
markup is added after the percentage.

Everything here is in rupees (Decimal), where the service counts integer paise.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

PAISA = Decimal("0.01")
RUPEE = Decimal(1)


def rule_price(
    price: Decimal,
    mrp: Decimal,
    *,
    markup_percent: Decimal | str = "0",
    markup_fixed: Decimal | str = "0",
    rounding: str = "none",
    floor: Decimal | str = "0",
) -> Decimal:
    """The price in rupees an account's rule gives for a canonical price and MRP in rupees."""
    marked = price + price * Decimal(markup_percent) / 100 + Decimal(markup_fixed)
    marked = marked.quantize(PAISA, ROUND_HALF_UP)
    if rounding == "rupee":
        marked = marked.quantize(RUPEE, ROUND_HALF_UP)
    elif rounding == "ends_in_9":
        marked = marked.quantize(RUPEE, ROUND_HALF_UP)
        while marked % 10 != 9:
            marked += 1
    elif rounding != "none":
        raise ValueError(rounding)
    if marked < Decimal(floor):
        marked = Decimal(floor)
    if marked > mrp:
        marked = mrp
    return marked.quantize(PAISA)


def whole_rupees(price: Decimal) -> Decimal:
    """A price as Flipkart takes it: the paise dropped."""
    return price.quantize(RUPEE, ROUND_DOWN)


def available(on_hand: int, reserved: int, buffer: int) -> int:
    return max(0, on_hand - reserved - buffer)


def account_rules(body: dict[str, Any]) -> dict[str, Any]:
    """The pricing rule of a `POST /v1/accounts` body, with the API's defaults (no markup, no
    rounding, no floor)."""
    return {
        "markup_percent": str(body.get("markup_percent", "0")),
        "markup_fixed": str(body.get("markup_fixed", "0")),
        "rounding": str(body.get("rounding", "none")),
        "floor": str(body.get("floor", "0")),
    }


@dataclass(frozen=True)
class PriceCase:
    """One hand-worked case, in paise as the service stores them."""

    why: str
    price: int
    mrp: int
    markup_percent: str = "0"
    markup_fixed: int = 0
    rounding: str = "none"
    floor: int = 0
    expected: int = 0


# Each worked by hand from the rule above; the arithmetic is in `why`.
PRICE_CASES = [
    PriceCase("no rule: ₹1,599 as it is", 159_900, 185_000, expected=159_900),
    PriceCase(
        "₹1,130 + 10 % = ₹1,243.00 → ends in 9: ₹1,249",
        113_000, 200_000, "10", rounding="ends_in_9", expected=124_900,
    ),
    PriceCase(
        "demo BHD-CARPET-3X5-RED: ₹21,500 + 5 % = ₹22,575.00 → ₹22,579 (MRP ₹24,000)",
        2_150_000, 2_400_000, "5", rounding="ends_in_9", expected=2_257_900,
    ),
    PriceCase(
        "demo BHD-CARPET-5X8-IVORY: ₹54,900 + 5 % = ₹57,645.00 → ₹57,649 (MRP ₹62,000)",
        5_490_000, 6_200_000, "5", rounding="ends_in_9", expected=5_764_900,
    ),
    PriceCase(
        "demo LKO-CHIKAN-KURTA-W-M: ₹1,850 + 5 % = ₹1,942.50 → ₹1,943 → ends in 9: ₹1,949",
        185_000, 220_000, "5", rounding="ends_in_9", expected=194_900,
    ),
    PriceCase(
        "₹1,180 + 5 % = ₹1,239.00 ends in 9 already: ₹1,239",
        118_000, 150_000, "5", rounding="ends_in_9", expected=123_900,
    ),
    PriceCase(
        "₹1,250.00 ends in 0: up to ₹1,259", 125_000, 150_000, rounding="ends_in_9",
        expected=125_900,
    ),
    PriceCase(
        "₹2,000 → ends in 9: ₹2,009, above the MRP of ₹2,000: ₹2,000",
        200_000, 200_000, rounding="ends_in_9", expected=200_000,
    ),
    PriceCase(
        "₹23,000 + 5 % = ₹24,150 → ₹24,159, above the MRP of ₹24,000: ₹24,000",
        2_300_000, 2_400_000, "5", rounding="ends_in_9", expected=2_400_000,
    ),
    PriceCase(
        "₹1,495 + 5 % = ₹1,569.75 → ₹1,570 → ₹1,579, above the MRP of ₹1,500: ₹1,500",
        149_500, 150_000, "5", rounding="ends_in_9", expected=150_000,
    ),
    PriceCase(
        "₹1,800 + 15 % = ₹2,070, above the MRP of ₹1,850: ₹1,850",
        180_000, 185_000, "15", expected=185_000,
    ),
    PriceCase(
        "₹1,850 + 5 % = ₹1,942.50, no rounding: paise kept",
        185_000, 220_000, "5", expected=194_250,
    ),
    PriceCase(
        "₹999.99 + 5 % = ₹1,049.9895 → to the paisa: ₹1,049.99",
        99_999, 150_000, "5", expected=104_999,
    ),
    PriceCase(
        "₹1,000 + ₹49.50 = ₹1,049.50 → nearest rupee: ₹1,050",
        100_000, 200_000, markup_fixed=4_950, rounding="rupee", expected=105_000,
    ),
    PriceCase(
        "₹1,234.40 → nearest rupee: ₹1,234", 123_440, 200_000, rounding="rupee",
        expected=123_400,
    ),
    PriceCase(
        "₹500 below the floor of ₹600 (MRP ₹900): ₹600",
        50_000, 90_000, floor=60_000, expected=60_000,
    ),
    PriceCase(
        "₹500 with a floor of ₹600 above the MRP of ₹550: the MRP wins, ₹550",
        50_000, 55_000, floor=60_000, expected=55_000,
    ),
    PriceCase(
        "₹590 → ends in 9: ₹599, below the floor of ₹600: ₹600 (the floor comes after rounding)",
        59_000, 90_000, rounding="ends_in_9", floor=60_000, expected=60_000,
    ),
]  # fmt: skip

# (on hand, open reservations, buffer, available to sell), by hand.
STOCK_CASES = [
    (6, 0, 1, 5),  # demo BHD-CARPET-3X5-RED on the demo account: 6 − 0 − 1
    (10, 3, 2, 5),  # 10 − 3 − 2
    (1, 0, 1, 0),  # 1 − 0 − 1
    (2, 3, 1, 0),  # 2 − 3 − 1 = −2, floored at 0
    (0, 0, 0, 0),
]
