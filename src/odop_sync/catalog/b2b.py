"""A product's wholesale (B2B, export) terms as the catalog stores them: minimum order quantity
and its unit, price tiers by quantity (integer paise, INR), supply per month, lead times by
quantity, port of loading, payment terms and an export HS code.

`WholesaleTerms` is the stored form (the JSON column `products.b2b`), validated by the same
ladder rules the batch applies (`odop_sync.catalog.b2b_cells` reads them from a row's cells
with messages naming the row and field). It also gives each column's canonical text, which is
what rows of one product are compared by, and the warnings a user would want (a larger order
that costs more per unit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from odop_sync.kit.money import paise_to_rupees
from odop_sync.kit.problems import FieldIssue

__all__ = [
    "B2B_COLUMNS",
    "MAX_LEAD_TIMES",
    "MAX_PRICE_TIERS",
    "MAX_QUANTITY",
    "PAYMENT_TERMS",
    "UNITS",
    "LeadTime",
    "PriceTier",
    "WholesaleTerms",
    "columns_of",
    "ladder_problems",
    "lead_time_problems",
    "quantities",
]

# The batch columns (JSON fields) of the terms, in the order the README lists them.
B2B_COLUMNS = (
    "b2b_moq",
    "b2b_moq_unit",
    "b2b_price_tiers",
    "b2b_supply_per_month",
    "b2b_lead_times",
    "b2b_port_of_loading",
    "b2b_payment_terms",
    "export_hs_code",
)
UNITS = ("piece", "pair", "set", "dozen", "square_metre", "metre", "kilogram", "carton")
PAYMENT_TERMS = ("TT", "LC", "DP", "DA", "western_union", "paypal")
Unit = Literal["piece", "pair", "set", "dozen", "square_metre", "metre", "kilogram", "carton"]
PaymentTerm = Literal["TT", "LC", "DP", "DA", "western_union", "paypal"]
# Alibaba.com's quantity price ladder has at most 4 steps; a longer ladder could not be shown
# there, and the other B2B marketplaces use shorter ones.
MAX_PRICE_TIERS = 4
MAX_LEAD_TIMES = 10
MAX_QUANTITY = 10_000_000  # as for stock: more units than this is a typing mistake
MAX_DAYS = 365


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PriceTier(_Frozen):
    """`price_paise` per unit for orders of `min_quantity` up to `max_quantity` units (None:
    and above)."""

    min_quantity: int = Field(ge=1, le=MAX_QUANTITY)
    max_quantity: int | None = Field(default=None, ge=1, le=MAX_QUANTITY)
    price_paise: int = Field(gt=0)

    @property
    def label(self) -> str:
        """ "2-49", or "200+" for an open-ended tier."""
        return quantities(self.min_quantity, self.max_quantity)


class LeadTime(_Frozen):
    """Days to dispatch an order of up to `max_quantity` units (None: any larger order)."""

    max_quantity: int | None = Field(default=None, ge=1, le=MAX_QUANTITY)
    days: int = Field(ge=1, le=MAX_DAYS)


class WholesaleTerms(_Frozen):
    """The stored terms. Quantities are in `moq_unit`; prices in paise (INR)."""

    moq: int = Field(ge=1, le=MAX_QUANTITY)
    moq_unit: Unit
    price_tiers: tuple[PriceTier, ...] = Field(min_length=1, max_length=MAX_PRICE_TIERS)
    supply_per_month: int | None = Field(default=None, ge=1, le=MAX_QUANTITY)
    lead_times: tuple[LeadTime, ...] = Field(default=(), max_length=MAX_LEAD_TIMES)
    port_of_loading: str | None = Field(default=None, min_length=1, max_length=100)
    payment_terms: tuple[PaymentTerm, ...] = ()
    export_hs_code: str | None = Field(default=None, pattern=r"^\d{6}(\d{2}){0,2}$")

    @model_validator(mode="after")
    def _rules(self) -> WholesaleTerms:
        problems = ladder_problems(self.price_tiers, self.moq)
        problems += lead_time_problems([(None, lt.max_quantity, lt.days) for lt in self.lead_times])
        if len(set(self.payment_terms)) != len(self.payment_terms):
            problems.append("payment terms repeat")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (lists, integers, text), as stored and hashed."""
        return self.model_dump(mode="json")

    def warnings(self, row: int | None) -> list[FieldIssue]:
        """What is allowed but probably not meant: a larger order that costs more per unit, or
        takes less time to make."""
        out: list[FieldIssue] = []
        tiers = self.price_tiers
        for n in range(1, len(tiers)):
            low, high = tiers[n - 1], tiers[n]
            if high.price_paise > low.price_paise:
                out.append(
                    FieldIssue(
                        row=row,
                        field="b2b_price_tiers",
                        message=f"tier {n + 1} ({high.label}) costs {_rupees(high.price_paise)} "
                        f"a unit, more than tier {n} ({low.label}) at "
                        f"{_rupees(low.price_paise)}: a larger order usually costs less per "
                        "unit; check the prices",
                    )
                )
        leads = self.lead_times
        for n in range(1, len(leads)):
            if leads[n].days < leads[n - 1].days:
                out.append(
                    FieldIssue(
                        row=row,
                        field="b2b_lead_times",
                        message=f"lead time {n + 1} ({leads[n].days} days) is shorter than lead "
                        f"time {n} ({leads[n - 1].days} days) for a smaller order; check the "
                        "days",
                    )
                )
        return out


def quantities(low: int | None, high: int | None) -> str:
    if low is None:
        return f"up to {high}" if high is not None else "any larger order"
    return f"{low}+" if high is None else f"{low}-{high}"


def _rupees(paise: int) -> str:
    return f"₹{paise_to_rupees(paise):,}"


def ladder_problems(tiers: Sequence[PriceTier], moq: int | None) -> list[str]:
    """What is wrong with a price ladder: too many tiers, a tier ending before it starts, tiers
    out of order, overlapping or leaving a gap, an open-ended tier before the last, a lowest
    tier below the MOQ. Empty when it is right."""
    problems: list[str] = []
    if len(tiers) > MAX_PRICE_TIERS:
        problems.append(
            f"{len(tiers)} price tiers; at most {MAX_PRICE_TIERS} are allowed "
            f"(Alibaba.com's quantity price ladder has {MAX_PRICE_TIERS} steps)"
        )
    for n, tier in enumerate(tiers, 1):
        if tier.max_quantity is not None and tier.max_quantity < tier.min_quantity:
            problems.append(
                f"tier {n} ends at {tier.max_quantity}, below its start {tier.min_quantity}"
            )
        if n > 1:
            problem = _step_problem(n, tiers[n - 2], tier)
            if problem:
                problems.append(problem)
    if tiers and moq is not None and tiers[0].min_quantity < moq:
        problems.append(
            f"tier 1 ({tiers[0].label}) starts below the minimum order quantity {moq} "
            f"(b2b_moq); start it at {moq} or more"
        )
    return problems


def _step_problem(n: int, before: PriceTier, tier: PriceTier) -> str | None:
    """What is wrong between tier n-1 (`before`) and tier n."""
    if before.max_quantity is None:
        return (
            f"tier {n - 1} ({before.label}) has no upper quantity but is not the last; only the "
            f"last tier may be open-ended: give tier {n - 1} an end, like "
            f"{before.min_quantity}-{max(before.min_quantity, tier.min_quantity - 1)}"
        )
    if tier.min_quantity <= before.min_quantity:
        return (
            f"tier {n} ({tier.label}) starts below tier {n - 1} ({before.label}); list the "
            "tiers from the smallest quantity up"
        )
    if tier.min_quantity <= before.max_quantity:
        return (
            f"tier {n} ({tier.label}) overlaps tier {n - 1} ({before.label}); start it at "
            f"{before.max_quantity + 1}"
        )
    if tier.min_quantity > before.max_quantity + 1:
        return (
            f"tier {n} ({tier.label}) starts at {tier.min_quantity} but tier {n - 1} ends at "
            f"{before.max_quantity}: orders of "
            f"{quantities(before.max_quantity + 1, tier.min_quantity - 1)} units have no price; "
            f"start tier {n} at {before.max_quantity + 1}"
        )
    return None


def lead_time_problems(leads: Sequence[tuple[int | None, int | None, int]]) -> list[str]:
    """What is wrong with lead times given as (from, up to, days); `from` is None where only the
    upper quantity is known (the JSON list form, the stored form). Upper quantities ascend, only
    the last may be open-ended, and where a start is given it follows the previous end."""
    problems: list[str] = []
    if len(leads) > MAX_LEAD_TIMES:
        problems.append(f"{len(leads)} lead times; at most {MAX_LEAD_TIMES} are allowed")
    for n, (start, end, _days) in enumerate(leads, 1):
        if start is not None and end is not None and end < start:
            problems.append(f"lead time {n} ends at {end}, below its start {start}")
        if n == 1:
            continue
        previous_end = leads[n - 2][1]
        if previous_end is None:
            problems.append(
                f"lead time {n - 1} has no upper quantity but is not the last; only the last "
                "lead time may be open-ended"
            )
        elif end is not None and end <= previous_end:
            problems.append(
                f"lead time {n} (up to {end}) does not go beyond lead time {n - 1} (up to "
                f"{previous_end}); list them from the smallest order up"
            )
        elif start is not None and start != previous_end + 1:
            problems.append(
                f"lead time {n} starts at {start} but lead time {n - 1} ends at "
                f"{previous_end}; start it at {previous_end + 1}"
            )
    return problems


def columns_of(terms: WholesaleTerms | None) -> dict[str, str | None]:
    """Each B2B column's canonical text (None: not given): what rows of one product compare."""
    if terms is None:
        return dict.fromkeys(B2B_COLUMNS)
    leads = []
    start = 1
    for lead in terms.lead_times:
        leads.append(f"{quantities(start, lead.max_quantity)}:{lead.days}")
        start = (lead.max_quantity or 0) + 1
    return {
        "b2b_moq": str(terms.moq),
        "b2b_moq_unit": terms.moq_unit,
        "b2b_price_tiers": "|".join(
            f"{t.label}:{paise_to_rupees(t.price_paise)}" for t in terms.price_tiers
        ),
        "b2b_supply_per_month": None
        if terms.supply_per_month is None
        else str(terms.supply_per_month),
        "b2b_lead_times": "|".join(leads) or None,
        "b2b_port_of_loading": terms.port_of_loading,
        "b2b_payment_terms": "|".join(terms.payment_terms) or None,
        "export_hs_code": terms.export_hs_code,
    }
