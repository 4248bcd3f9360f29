"""The INR rate an order is booked at: the marketplace's, or the FX store's in force on its
purchase day. An order with neither is kept, without an INR value, until a rate is set; setting
one prices it (`price_waiting_orders`) and adds it to the sales rollups."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.adapter_sdk import RemoteOrder
from odop_sync.fx import repository as fx_repo
from odop_sync.kit.time import utcnow
from odop_sync.models import Order, OrderLine
from odop_sync.orders import repository as repo
from odop_sync.orders.lines import ONE, ZERO, Rollups, sales_day, stored_state

log = logging.getLogger(__name__)

INR = "INR"


@dataclass(frozen=True, slots=True)
class Booking:
    """The INR rate an order is booked at, where it came from and the day it is valid for.
    `rate` None: no rate at all yet (the order is kept, its INR value waits)."""

    rate: Decimal | None
    source: str | None = None
    valid_on: date | None = None

    @property
    def line_rate(self) -> Decimal:
        return ZERO if self.rate is None else self.rate

    def columns(self) -> dict[str, Any]:
        return {
            "inr_rate": self.rate,
            "inr_rate_source": self.source,
            "inr_rate_date": self.valid_on,
        }


INR_BOOKING = Booking(ONE)
NO_RATE = Booking(None)
MARKETPLACE = "marketplace"


def _known_booking(order: RemoteOrder, stored: Mapping[str, Any] | None) -> Booking | None:
    """INR; the marketplace's own rate; or the rate the order was booked at before (an order
    keeps it). None: the FX store decides."""
    if order.currency == INR:
        return INR_BOOKING
    if order.inr_rate is not None:
        return Booking(order.inr_rate, MARKETPLACE, sales_day(order.purchased_at))
    if (
        stored is not None
        and stored["inr_rate"] is not None
        and stored["currency"] == order.currency
    ):
        return Booking(
            Decimal(stored["inr_rate"]), stored["inr_rate_source"], stored["inr_rate_date"]
        )
    return None


async def bookings(
    session: AsyncSession,
    incoming: Mapping[str, RemoteOrder],
    stored: Mapping[str, Mapping[str, Any]],
) -> dict[str, Booking]:
    """Each incoming order's booking: see `_known_booking`, else the FX store's rate in force
    on its purchase day in India (any age: it is history), else none yet."""
    out: dict[str, Booking] = {}
    wanted: dict[str, set[date]] = defaultdict(set)
    for remote_id, order in incoming.items():
        known = _known_booking(order, stored.get(remote_id))
        if known is None:
            wanted[order.currency].add(sales_day(order.purchased_at))
        else:
            out[remote_id] = known
    found = {
        currency: await fx_repo.rates_in_force(session, currency, days)
        for currency, days in wanted.items()
    }
    for remote_id, order in incoming.items():
        if remote_id in out:
            continue
        row = found[order.currency][sales_day(order.purchased_at)]
        out[remote_id] = NO_RATE if row is None else Booking(row.rate, row.source, row.valid_on)
        if row is None:
            log.warning("order %s: no INR rate for %s yet", order.order_id, order.currency)
    return out


async def price_waiting_orders(session: AsyncSession, currency: str) -> int:
    """Book the orders in `currency` that had no rate at the FX store's rate in force on their
    purchase day, now that it may have one, and add their INR value to the sales rollups. In
    the caller's transaction (the one that set the rate); returns how many were priced."""
    waiting = await repo.unpriced_orders(session, currency)
    if not waiting:
        return 0
    days = {row["id"]: sales_day(row["purchased_at"]) for row in waiting}
    rates = await fx_repo.rates_in_force(session, currency, set(days.values()))
    priced = {row["id"]: rate for row in waiting if (rate := rates[days[row["id"]]]) is not None}
    if not priced:
        return 0
    orders = {row["id"]: row for row in waiting}
    lines = await repo.lines_of(session, list(priced))
    product_of = await repo.products_of(
        session, {line["variant_id"] for line in lines if line["variant_id"] is not None}
    )
    rollups: dict[int, Rollups] = {}
    line_updates = []
    for line_row in lines:
        order = orders[line_row["order_id"]]
        booked = Decimal(priced[order["id"]].rate)
        old = stored_state(line_row)
        sums = rollups.setdefault(
            order["account_id"], Rollups(order["agency_id"], order["account_id"])
        )
        product_key = product_of.get(old.variant_id or 0, 0)
        sums.add(days[order["id"]], product_key, old, -1)
        sums.add(days[order["id"]], product_key, replace(old, inr_rate=booked), +1)
        line_updates.append({"_id": line_row["id"], "inr_rate": booked})
    now = utcnow()
    await repo.update_rows(
        session,
        Order,
        [
            {
                "_id": order_id,
                **Booking(Decimal(rate.rate), rate.source, rate.valid_on).columns(),
                "updated_at": now,
            }
            for order_id, rate in sorted(priced.items())
        ],
    )
    await repo.update_rows(session, OrderLine, line_updates)
    rows = [row for sums in rollups.values() for row in sums.rows()]
    await repo.add_to_rollups(session, sorted(rows, key=lambda r: [r[k] for k in repo.ROLLUP_KEY]))
    return len(priced)
