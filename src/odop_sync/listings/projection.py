"""Pure projection of a canonical variant onto an account: price, stock and hashes.

Everything the engine pushes is derived here, so "why does Amazon show ₹1,249 and 3 units?" has
one answer: the account's pricing rule applied to the canonical price, and
available_to_sell = on_hand − open reservations − account buffer, floored at 0.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from odop_sync.models.sync import Rounding


@dataclass(frozen=True, slots=True)
class PricingRule:
    markup_percent: Decimal = Decimal(0)
    markup_fixed_paise: int = 0
    rounding: Rounding = Rounding.NONE
    floor_paise: int = 0


@dataclass(frozen=True, slots=True)
class PriceDerivation:
    base_paise: int
    marked_up_paise: int
    rounded_paise: int
    final_paise: int
    clamped_by: str | None  # "floor" | "mrp" | None


def project_price(price_paise: int, mrp_paise: int, rule: PricingRule) -> PriceDerivation:
    """Markup, then rounding, then never below the floor, and never above MRP (MRP wins: selling
    above the printed MRP is illegal in India under the Legal Metrology rules)."""
    marked = Decimal(price_paise) * (1 + rule.markup_percent / 100) + rule.markup_fixed_paise
    marked_paise = int(marked.to_integral_value(ROUND_HALF_UP))
    rounded = _round(marked_paise, rule.rounding)
    final, clamped = rounded, None
    if final < rule.floor_paise:
        final, clamped = rule.floor_paise, "floor"
    if final > mrp_paise:
        final, clamped = mrp_paise, "mrp"
    return PriceDerivation(price_paise, marked_paise, rounded, final, clamped)


def _round(paise: int, rounding: Rounding) -> int:
    if rounding is Rounding.NONE:
        return paise
    rupees = int((Decimal(paise) / 100).to_integral_value(ROUND_HALF_UP))
    if rounding is Rounding.ENDS_IN_9:
        # Up to the next rupee amount ending in 9 (1,243 -> 1,249; 1,250 -> 1,259).
        rupees += (9 - rupees % 10) % 10
    return rupees * 100


@dataclass(frozen=True, slots=True)
class StockDerivation:
    on_hand: int
    reserved: int
    buffer: int
    available_to_sell: int


def available_to_sell(on_hand: int, reserved: int, buffer: int) -> StockDerivation:
    return StockDerivation(on_hand, reserved, buffer, max(0, on_hand - reserved - buffer))


# One encoder for every hash: json.dumps with any non-default option builds a new JSONEncoder per
# call, a tenth of a re-projection's time. The output is the same, so stored hashes stay valid.
_HASH_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False
)


def state_hash(payload: dict[str, Any]) -> str:
    """A stable digest of a desired state (content or offer) for dirty detection."""
    return hashlib.sha256(_HASH_ENCODER.encode(payload).encode()).hexdigest()
