"""An order line's contribution to the sales rollups, and the Indian day it counts on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from odop_sync.kit.time import as_utc
from odop_sync.models import SalesGrain

# Sales days are Indian days: an order placed at 23:00 IST belongs to that day, not the next.
IST = timezone(timedelta(hours=5, minutes=30), "IST")
ONE = Decimal(1)
ZERO = Decimal(0)
# The summed columns of a rollup row, in the order `Rollups` keeps them.
ROLLUP_SUMS = (
    "units",
    "units_net",
    "units_cancelled",
    "units_returned",
    "gross_paise",
    "net_paise",
    "orders",
)


def sales_day(moment: datetime) -> date:
    return as_utc(moment).astimezone(IST).date()


@dataclass(frozen=True, slots=True)
class LineState:
    """What a stored line counts: the inputs of its stock and sales contributions."""

    variant_id: int | None
    quantity: int
    cancelled: int
    returned: int
    unit_price_minor: int
    inr_rate: Decimal
    stock_out: int
    stock_short: int
    position: int

    @property
    def units_net(self) -> int:
        return self.quantity - self.cancelled - self.returned

    @property
    def priced(self) -> bool:
        """Whether the line has an INR value: an order in another currency without any rate
        yet (booked at 0) is left out of the sales figures until it gets one."""
        return self.inr_rate > 0

    @property
    def unit_paise(self) -> int:
        return int((self.unit_price_minor * self.inr_rate).to_integral_value(ROUND_HALF_UP))


class Rollups:
    """Signed changes per rollup row, summed before they are written."""

    def __init__(self, agency_id: int, account_id: int) -> None:
        self.agency_id = agency_id
        self.account_id = account_id
        self.sums: dict[tuple[str, date, int], list[int]] = defaultdict(
            lambda: [0] * len(ROLLUP_SUMS)
        )

    def add(self, day: date, product_key: int, line: LineState, sign: int) -> None:
        if not line.priced:
            return
        paise = line.unit_paise
        amounts = (
            line.quantity,
            line.units_net,
            line.cancelled,
            line.returned,
            line.quantity * paise,
            line.units_net * paise,
            1 if line.position == 0 else 0,
        )
        for grain, start in ((SalesGrain.DAY, day), (SalesGrain.MONTH, day.replace(day=1))):
            row = self.sums[(grain.value, start, product_key)]
            for n, amount in enumerate(amounts):
                row[n] += sign * amount

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "grain": grain,
                "period_start": start,
                "agency_id": self.agency_id,
                "account_id": self.account_id,
                "product_key": product_key,
                **dict(zip(ROLLUP_SUMS, s, strict=True)),
            }
            for (grain, start, product_key), s in sorted(self.sums.items())
            if any(s)
        ]


ZERO_LINE = LineState(None, 0, 0, 0, 0, ONE, 0, 0, -1)


def stored_state(row: Mapping[str, Any]) -> LineState:
    return LineState(
        variant_id=row["variant_id"],
        quantity=row["quantity"],
        cancelled=row["quantity_cancelled"],
        returned=row["quantity_returned"],
        unit_price_minor=row["unit_price_minor"],
        inr_rate=Decimal(row["inr_rate"]),
        stock_out=row["stock_out"],
        stock_short=row["stock_short"],
        position=row["position"],
    )
