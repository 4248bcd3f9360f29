"""What Alibaba.com's sandbox should show for the demo catalog, worked out from the documented
rules apart from the code under test (the projection, the adapter's mapping):

- only products with B2B terms are offered (README, "Wholesale (B2B, export) terms"); the others
  wait as needs_mapping;
- each B2B tier price is converted from INR at the rate in force: `cents = paise ÷ rate`, half up
  to a whole cent (README, "Prices"); the tiers are the product's own terms, not the account's
  retail price: no markup, rounding or MRP cap applies to them (the pricing rule works on the
  one price, README "How sync works");
- a product's quantity is what it has to sell (on hand − reserved − the account's buffer, floored
  at 0, tests/pricing.py), and it is on the shelf (display Y) with stock, off it (N) at 0
  (the adapter's documented behaviour, adapters/alibaba/adapter.py docstring).

Hand-worked at US$1 = ₹84.12 for the demo carpet BHD-CARPET-3X5-RED (tiers 10-49: ₹11,800,
50-199: ₹10,600, 200+: ₹9,400): 1180000 ÷ 84.12 = 14027.58 → US$140.28; 1060000 ÷ 84.12 =
12601.05 → US$126.01; 940000 ÷ 84.12 = 11174.51 → US$111.75 (see RED_CARPET below).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from tests.conftest import bearer
from tests.pricing import available

RATE = Decimal("84.12")  # INR per US$ (the README's example rate)
CENT = Decimal("0.01")

# The demo catalog's carpet, by hand (module docstring): (start quantity, US$) per tier.
RED_CARPET = [(10, "140.28"), (50, "126.01"), (200, "111.75")]


def usd(rupees: Decimal | str | int, rate: Decimal = RATE) -> str:
    """An INR amount in US$ with two decimals: paise ÷ rate, half up to the cent."""
    paise = Decimal(str(rupees)) * 100
    cents = (paise / rate).to_integral_value(ROUND_HALF_UP)
    return str((cents * CENT).quantize(CENT))


def tiers(cell: str, rate: Decimal = RATE) -> list[tuple[int, str]]:
    """A catalog's `b2b_price_tiers` text (`10-49:11800|50-199:10600|200+:9400`, rupees per
    unit) as (start quantity, US$) rows."""
    out = []
    for part in cell.split("|"):
        quantities, _, price = part.partition(":")
        start = quantities.split("-")[0].rstrip("+")
        out.append((int(start), usd(price, rate)))
    return out


@dataclass(frozen=True)
class Shown:
    """What the sandbox's state shows for one product."""

    tiers: list[tuple[int, str]]
    moq: int
    quantity: int
    display: str


def b2b_items(items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [item for item in items if item.get("b2b_price_tiers")]


def expected(
    items: Iterable[Mapping[str, Any]], *, buffer: int = 0, rate: Decimal = RATE
) -> dict[str, Shown]:
    """By SKU, for the catalog rows as published (no order open: nothing reserved)."""
    out = {}
    for item in b2b_items(items):
        quantity = available(int(item["stock"]), 0, buffer)
        out[item["sku"]] = Shown(
            tiers(str(item["b2b_price_tiers"]), rate),
            int(item["b2b_moq"]),
            quantity,
            "Y" if quantity > 0 else "N",
        )
    return out


def shown(state: Mapping[str, Any]) -> dict[str, Shown]:
    """The sandbox state's products by SKU; fails if one SKU (red_model) has two products."""
    rows = state["listings"]
    skus = [row["sku"] for row in rows]
    assert len(skus) == len(set(skus)), f"a product is on Alibaba.com twice: {sorted(skus)}"
    return {
        row["sku"]: Shown(
            [(int(t["start_quantity"]), str(t["price"])) for t in row["tiers"]],
            int(row["moq"]),
            int(row["quantity"]),
            str(row["display"]),
        )
        for row in rows
    }


async def set_usd_rate(client: httpx.AsyncClient, admin: str, rate: Decimal = RATE) -> None:
    """The USD rate in force today (without one every Alibaba.com listing is held)."""
    body = {"currency": "USD", "rate": str(rate), "source": "RBI"}
    r = await client.post("/v1/fx/rates", json=body, headers=bearer(admin))
    assert r.status_code in (200, 201), r.text
