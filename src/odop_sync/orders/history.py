"""A history import: past orders written as ingest writes them (orders, lines, status history,
the sales rollups), in one pass and without moving stock: these sales happened before
odop-sync managed the stock, so every line counts stock_out 0 and no ledger row is written.

Used by `odop-sync demo` (a demo sales history) and by bench/orders (a million order lines):
rows are built in memory and written with one multi-row INSERT per table and chunk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.adapter_sdk import OrderStatus, RemoteOrder
from odop_sync.db import insert_many
from odop_sync.kit.time import as_utc, utcnow
from odop_sync.models import MarketplaceAccount, Variant
from odop_sync.orders import repository as repo
from odop_sync.orders.booking import Booking, bookings
from odop_sync.orders.lines import LineState, Rollups, sales_day
from odop_sync.orders.service import effective_quantities, line_keys, order_row


@dataclass(frozen=True, slots=True)
class CatalogSku:
    variant_id: int
    product_id: int


@dataclass(frozen=True, slots=True)
class PastOrder:
    """An order as the marketplace reports it now, and the statuses it went through before
    (oldest first: the canonical status, the marketplace's words, when), for its history."""

    order: RemoteOrder
    earlier: tuple[tuple[OrderStatus, str, datetime], ...] = ()


async def catalog_skus(session: AsyncSession, agency_id: int) -> dict[str, CatalogSku]:
    """The agency's SKUs, each with its variant and product."""
    rows = await session.execute(
        select(Variant.sku, Variant.id, Variant.product_id).where(Variant.agency_id == agency_id)
    )
    return {sku: CatalogSku(int(v), int(p)) for sku, v, p in rows.all()}


async def load_history(
    session: AsyncSession,
    account: MarketplaceAccount,
    orders: Sequence[PastOrder],
    skus: Mapping[str, CatalogSku],
) -> int:
    """Insert past orders of one account in the caller's transaction; orders already stored
    (the same marketplace order id) are left alone. Each is booked as ingest books it (INR at
    1, else the marketplace's rate or the FX store's in force on its purchase day). Returns
    the number of lines written."""
    now = utcnow()
    incoming = {o.order.order_id: o.order for o in orders}
    booked = await bookings(session, incoming, {})
    rows = [order_row(account, o, now, booked[o.order_id]) for o in incoming.values()]
    inserted = await repo.insert_orders(session, rows)
    rollups = Rollups(account.agency_id, account.id)
    lines: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    for past in orders:
        order_id = inserted.get(past.order.order_id)
        if order_id is None:
            continue
        history += _history(order_id, past, now)
        lines += _lines(order_id, past.order, booked[past.order.order_id], skus, rollups)
    await insert_many(session, repo.LINES, lines)
    await insert_many(session, repo.HISTORY, history)
    await repo.add_to_rollups(session, rollups.rows())
    return len(lines)


def _history(order_id: int, past: PastOrder, now: datetime) -> list[dict[str, Any]]:
    remote = past.order
    updated = as_utc(remote.updated_at or remote.purchased_at)
    steps = [*past.earlier, (remote.canonical_status, remote.status, updated)]
    out = []
    before: OrderStatus | None = None
    for status, words, at in steps:
        out.append(
            {
                "order_id": order_id,
                "from_status": before,
                "to_status": status,
                "marketplace_status": words[:64],
                "changed_at": as_utc(at),
                "recorded_at": now,
            }
        )
        before = status
    return out


def _lines(
    order_id: int,
    remote: RemoteOrder,
    booking: Booking,
    skus: Mapping[str, CatalogSku],
    rollups: Rollups,
) -> list[dict[str, Any]]:
    day = sales_day(remote.purchased_at)
    out = []
    for position, (key, line) in enumerate(zip(line_keys(remote.lines), remote.lines, strict=True)):
        known = skus.get(line.sku)
        cancelled, returned = effective_quantities(remote.canonical_status, line)
        state = LineState(
            variant_id=known.variant_id if known else None,
            quantity=line.quantity,
            cancelled=cancelled,
            returned=returned,
            unit_price_minor=line.unit_price.amount,
            inr_rate=booking.line_rate,
            stock_out=0,
            stock_short=0,
            position=position,
        )
        rollups.add(day, known.product_id if known else 0, state, +1)
        out.append(
            {
                "order_id": order_id,
                "line_key": key,
                "sku": line.sku,
                "position": position,
                "variant_id": state.variant_id,
                "unmatched": known is None,
                "quantity": line.quantity,
                "quantity_cancelled": cancelled,
                "quantity_returned": returned,
                "unit_price_minor": line.unit_price.amount,
                "inr_rate": booking.line_rate,
                "stock_out": 0,
                "stock_short": 0,
            }
        )
    return out
