"""Order ingestion: upsert by (account, marketplace order id), status history, stock moved once
per unit through the ledger, and the sales rollups, all in the caller's transaction.

A page may be ingested any number of times (overlap windows, a crash between a page and its
cursor): each line stores how many of its units it counts as out of stock, so a repeat moves
nothing, and each rollup change is the difference between what the line contributed before and
what it contributes now.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.adapter_sdk import OrderPage, OrderStatus, RemoteOrder, RemoteOrderLine
from odop_sync.kit.time import as_utc, utcnow
from odop_sync.models import (
    MarketplaceAccount,
    Order,
    OrderLine,
    OrderStatusChange,
    StockMovement,
    StockReason,
    Variant,
)
from odop_sync.orders import repository as repo
from odop_sync.orders.booking import Booking, bookings
from odop_sync.orders.lines import (
    IST,
    ZERO_LINE,
    LineState,
    Rollups,
    sales_day,
    stored_state,
)

# What others import from here (the endpoints, bench/orders).
_Rollups = Rollups
__all__ = ["IST", "LineState", "Rollups", "_Rollups", "ingest", "sales_day"]

log = logging.getLogger(__name__)


def effective_quantities(status: OrderStatus, line: RemoteOrderLine) -> tuple[int, int]:
    """(cancelled, returned) units in force: a cancelled or returned order takes all its units."""
    if status is OrderStatus.CANCELLED:
        return line.quantity, 0
    cancelled = min(line.quantity_cancelled, line.quantity)
    if status is OrderStatus.RETURNED:
        return cancelled, line.quantity - cancelled
    return cancelled, min(line.quantity_returned, line.quantity - cancelled)


def line_keys(lines: Iterable[RemoteOrderLine]) -> list[str]:
    """The marketplace's line id, else the SKU (numbered when an order repeats a SKU)."""
    seen: dict[str, int] = defaultdict(int)
    keys = []
    for line in lines:
        key = line.line_id or line.sku
        seen[key] += 1
        keys.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return keys


def _newest_per_order(orders: Iterable[RemoteOrder]) -> dict[str, RemoteOrder]:
    newest: dict[str, RemoteOrder] = {}
    for order in orders:
        held = newest.get(order.order_id)
        if held is None or _updated(order) >= _updated(held):
            newest[order.order_id] = order
    return newest


def _updated(order: RemoteOrder) -> datetime:
    return as_utc(order.updated_at or order.purchased_at)


class _Ledger:
    """Stock moves of one ingest, applied to a running copy of each variant's on-hand count."""

    def __init__(self, on_hand: Mapping[int, int], actor: str, now: datetime) -> None:
        self.on_hand = dict(on_hand)
        self.before = dict(on_hand)
        self.actor = actor
        self.now = now
        self.movements: list[dict[str, Any]] = []

    def settle(self, old: LineState, new: LineState, source_ref: str) -> tuple[int, int]:
        """Move the line's stock from what it counted (old) to what it should (new); returns
        the new (stock_out, stock_short)."""
        variant_id = new.variant_id
        if variant_id is None:
            return 0, 0
        out, short = old.stock_out, old.stock_short
        change = new.units_net - out
        if change > 0:
            # On hand never goes below 0: the units there was no stock for are remembered as
            # short, and the movement says what really left.
            taken = min(change, self.on_hand[variant_id])
            short += change - taken
            self._move(variant_id, -taken, StockReason.ORDER, source_ref, change)
        elif change < 0:
            back = -change
            returned = min(back, max(0, new.returned - old.returned))
            for reason, units in (
                (StockReason.RETURN, returned),
                (StockReason.CANCELLATION, back - returned),
            ):
                if not units:
                    continue
                never_taken = min(units, short)
                short -= never_taken
                self._move(variant_id, units - never_taken, reason, source_ref, units)
        return new.units_net, short

    def _move(
        self, variant_id: int, delta: int, reason: StockReason, source_ref: str, units: int
    ) -> None:
        balance = self.on_hand[variant_id] + delta
        self.on_hand[variant_id] = balance
        note = "" if abs(delta) == units else f" ({units} units, {abs(delta)} in stock)"
        self.movements.append(
            {
                "variant_id": variant_id,
                "delta": delta,
                "balance_after": balance,
                "reason": reason,
                "source_ref": (source_ref + note)[:200],
                "actor": self.actor,
                "created_at": self.now,
            }
        )

    def changed(self) -> list[int]:
        return sorted(v for v, n in self.on_hand.items() if n != self.before[v])


async def ingest(
    session: AsyncSession,
    account: MarketplaceAccount,
    page: OrderPage,
) -> list[int]:
    """Upsert one page of an account's orders in the caller's transaction; returns the ids of
    the variants whose on-hand stock changed (every account selling them needs a push)."""
    now = utcnow()
    await repo.plan_for_these_values(session)
    await repo.touch_cursor(session, account.id, now)
    incoming = _newest_per_order(page.orders)
    if not incoming:
        return []
    stored = await repo.orders_by_remote_id(session, account.id, incoming)
    booked = await bookings(session, incoming, stored)
    new_orders = await _insert_fresh(session, account, incoming, stored, now, booked)
    stored_lines = await _lines_by_order(session, stored)
    variants = await _variants_touched(session, account, incoming, stored_lines)
    batch = _Batch(account, variants, now, booked)
    for remote_id, remote in incoming.items():
        is_new = remote_id in new_orders
        order = new_orders[remote_id] if is_new else stored[remote_id]
        batch.add_order(remote_id, remote, order, is_new, stored_lines.get(order["id"], {}))
    return await batch.write(session)


async def _insert_fresh(
    session: AsyncSession,
    account: MarketplaceAccount,
    incoming: Mapping[str, RemoteOrder],
    stored: dict[str, dict[str, Any]],
    now: datetime,
    bookings: Mapping[str, Booking],
) -> dict[str, dict[str, Any]]:
    """Insert the orders not stored yet; returns the rows this transaction inserted, by remote
    id. Orders another transaction stored first are read into `stored`."""
    fresh = [o for remote_id, o in incoming.items() if remote_id not in stored]
    if not fresh:
        return {}
    rows = {o.order_id: order_row(account, o, now, bookings[o.order_id]) for o in fresh}
    inserted = await repo.insert_orders(session, list(rows.values()))
    if len(inserted) < len(fresh):
        # Another transaction stored some first; the unique key won, read theirs.
        stored.update(
            await repo.orders_by_remote_id(
                session, account.id, [o.order_id for o in fresh if o.order_id not in inserted]
            )
        )
    # Rows inserted by this transaction are its own until it ends: no need to read them back.
    return {remote_id: {**rows[remote_id], "id": id_} for remote_id, id_ in inserted.items()}


async def _lines_by_order(
    session: AsyncSession, stored: Mapping[str, Mapping[str, Any]]
) -> dict[int, dict[str, dict[str, Any]]]:
    """The stored lines of the stored orders, by order id, then by line key."""
    stored_lines: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for line_row in await repo.lines_of(session, [o["id"] for o in stored.values()]):
        stored_lines[line_row["order_id"]][line_row["line_key"]] = line_row
    return stored_lines


async def _variants_touched(
    session: AsyncSession,
    account: MarketplaceAccount,
    incoming: Mapping[str, RemoteOrder],
    stored_lines: Mapping[int, Mapping[str, Mapping[str, Any]]],
) -> list[repo.VariantStock]:
    """The variants the page's SKUs name and those its stored lines were matched to."""
    skus = {line.sku for o in incoming.values() for line in o.lines}
    old_variant_ids = {
        row["variant_id"]
        for lines in stored_lines.values()
        for row in lines.values()
        if row["variant_id"] is not None
    }
    return await repo.variants_for(session, account.agency_id, skus, old_variant_ids)


@dataclass(frozen=True, slots=True)
class _OrderContext:
    """What every line of one incoming order shares."""

    remote_id: str
    order_id: int
    status: OrderStatus
    old_day: date
    new_day: date
    inr_rate: Decimal


class _Batch:
    """The rows one page changes, gathered order by order, then written together."""

    def __init__(
        self,
        account: MarketplaceAccount,
        variants: Iterable[repo.VariantStock],
        now: datetime,
        bookings: Mapping[str, Booking],
    ) -> None:
        variants = list(variants)
        self.now = now
        self.bookings = bookings
        self.by_sku = {v.sku: v for v in variants}
        self.product_of = {v.id: v.product_id for v in variants}
        self.ledger = _Ledger(
            {v.id: v.stock_on_hand for v in variants}, f"account:{account.id}", now
        )
        self.rollups = Rollups(account.agency_id, account.id)
        self.order_updates: list[dict[str, Any]] = []
        self.history: list[dict[str, Any]] = []
        self.line_inserts: list[dict[str, Any]] = []
        self.line_updates: list[dict[str, Any]] = []

    def add_order(
        self,
        remote_id: str,
        remote: RemoteOrder,
        order: Mapping[str, Any],
        is_new: bool,
        lines: Mapping[str, Mapping[str, Any]],
    ) -> None:
        updated = _updated(remote)
        if not is_new and updated < as_utc(order["remote_updated_at"]):
            return  # an older copy (overlap window): what is stored is newer
        if is_new or order["status"] != remote.canonical_status:
            self.history.append(
                {
                    "order_id": order["id"],
                    "from_status": None if is_new else order["status"],
                    "to_status": remote.canonical_status,
                    "marketplace_status": remote.status[:64],
                    "changed_at": updated,
                    "recorded_at": self.now,
                }
            )
        if not is_new:
            self.order_updates.append(
                {
                    "_id": order["id"],
                    "status": remote.canonical_status,
                    "marketplace_status": remote.status[:64],
                    "purchased_at": as_utc(remote.purchased_at),
                    "remote_updated_at": updated,
                    "currency": remote.currency,
                    **self.bookings[remote_id].columns(),
                    "updated_at": self.now,
                }
            )
        context = _OrderContext(
            remote_id=remote_id,
            order_id=order["id"],
            status=remote.canonical_status,
            old_day=sales_day(order["purchased_at"]),
            new_day=sales_day(remote.purchased_at),
            inr_rate=self.bookings[remote_id].line_rate,
        )
        for position, (key, line) in enumerate(
            zip(line_keys(remote.lines), remote.lines, strict=True)
        ):
            self._add_line(context, position, key, line, lines.get(key))

    def _add_line(
        self,
        order: _OrderContext,
        position: int,
        key: str,
        line: RemoteOrderLine,
        row: Mapping[str, Any] | None,
    ) -> None:
        old = ZERO_LINE if row is None else stored_state(row)
        variant = self.by_sku.get(line.sku)
        # A line keeps the variant it was matched to; an unknown SKU matches once it exists.
        variant_id = old.variant_id or (variant.id if variant else None)
        cancelled, returned = effective_quantities(order.status, line)
        new = LineState(
            variant_id=variant_id,
            quantity=line.quantity,
            cancelled=cancelled,
            returned=returned,
            unit_price_minor=line.unit_price.amount,
            inr_rate=order.inr_rate,
            stock_out=0,
            stock_short=0,
            position=position,
        )
        stock_out, stock_short = self.ledger.settle(old, new, f"order:{order.remote_id}#line:{key}")
        if row is not None:
            self.rollups.add(order.old_day, self.product_of.get(old.variant_id or 0, 0), old, -1)
        self.rollups.add(order.new_day, self.product_of.get(variant_id or 0, 0), new, +1)
        values = {
            "sku": line.sku,
            "position": position,
            "variant_id": variant_id,
            "unmatched": variant_id is None,
            "quantity": line.quantity,
            "quantity_cancelled": cancelled,
            "quantity_returned": returned,
            "unit_price_minor": line.unit_price.amount,
            "inr_rate": order.inr_rate,
            "stock_out": stock_out,
            "stock_short": stock_short,
        }
        if row is None:
            self.line_inserts.append({"order_id": order.order_id, "line_key": key, **values})
        elif any(row[k] != v for k, v in values.items()):
            self.line_updates.append({"_id": row["id"], **values})

    async def write(self, session: AsyncSession) -> list[int]:
        """Write every gathered row; returns the variants whose on-hand stock changed."""
        await repo.update_rows(session, Order, self.order_updates)
        await repo.insert_rows(session, OrderStatusChange, self.history)
        await repo.insert_rows(session, OrderLine, self.line_inserts)
        await repo.update_rows(session, OrderLine, self.line_updates)
        changed = self.ledger.changed()
        on_hand = self.ledger.on_hand
        await repo.update_rows(
            session,
            Variant,
            [{"_id": v, "stock_on_hand": on_hand[v], "updated_at": self.now} for v in changed],
        )
        await repo.insert_rows(session, StockMovement, self.ledger.movements)
        await repo.add_to_rollups(session, self.rollups.rows())
        return changed


def order_row(
    account: MarketplaceAccount, order: RemoteOrder, now: datetime, booking: Booking
) -> dict[str, Any]:
    return {
        **booking.columns(),
        "agency_id": account.agency_id,
        "account_id": account.id,
        "marketplace_order_id": order.order_id,
        "status": order.canonical_status,
        "marketplace_status": order.status[:64],
        "purchased_at": as_utc(order.purchased_at),
        "remote_updated_at": _updated(order),
        "currency": order.currency,
        "created_at": now,
        "updated_at": now,
    }
