"""Every query of the orders slice: ingest reads and writes, the pull cursor and its lease."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    column,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from odop_sync.adapter_sdk import OrderStatus
from odop_sync.db import insert_many, matches_any
from odop_sync.models import (
    MarketplaceAccount,
    Order,
    OrderCursor,
    OrderLine,
    OrderStatusChange,
    SalesRollup,
    StockMovement,
    Variant,
)
from odop_sync.models.base import table_of
from odop_sync.orders.lines import ROLLUP_SUMS

ORDERS = table_of(Order)
LINES = table_of(OrderLine)
HISTORY = table_of(OrderStatusChange)
ROLLUPS = table_of(SalesRollup)
MOVEMENTS = table_of(StockMovement)
CURSORS = table_of(OrderCursor)
VARIANTS = table_of(Variant)


def _for_update(stmt: Select[Any], session: AsyncSession) -> Select[Any]:
    # SQLite has no row locks: its writers hold the database lock from BEGIN IMMEDIATE on.
    return stmt.with_for_update() if session.get_bind().dialect.name == "postgresql" else stmt


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def plan_for_these_values(session: AsyncSession) -> None:
    """PostgreSQL: plan each statement of this transaction for its own parameters.

    The driver prepares every statement once per connection, and after five executions the
    server may switch to a generic plan chosen from the table sizes of that moment. Chosen while
    `orders` held a few hundred rows, the order lookup `account_id = $1 AND marketplace_order_id
    = ANY($2)` kept `account_id` as its only index condition and filtered the rest: every page
    then read all of the account's orders (60 ms a lookup at 15,000 orders, growing with the
    table; nothing re-plans it until the table is analysed). A custom plan costs a fraction of
    a millisecond and always probes the index with both columns."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


@dataclass(frozen=True, slots=True)
class VariantStock:
    id: int
    sku: str
    product_id: int
    stock_on_hand: int


async def orders_by_remote_id(
    session: AsyncSession, account_id: int, remote_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    """The stored orders of these marketplace ids, locked for this transaction."""
    dialect = session.get_bind().dialect
    stmt = _for_update(
        select(ORDERS).where(
            ORDERS.c.account_id == account_id,
            matches_any(ORDERS.c.marketplace_order_id, list(remote_ids), dialect),
        ),
        session,
    )
    rows = (await session.execute(stmt)).mappings().all()
    return {row["marketplace_order_id"]: dict(row) for row in rows}


async def unpriced_orders(session: AsyncSession, currency: str) -> list[dict[str, Any]]:
    """Orders in `currency` that have no INR rate yet, locked for this transaction, by id."""
    stmt = _for_update(
        select(ORDERS)
        .where(ORDERS.c.currency == currency, ORDERS.c.inr_rate.is_(None))
        .order_by(ORDERS.c.id),
        session,
    )
    return [dict(row) for row in (await session.execute(stmt)).mappings().all()]


async def products_of(session: AsyncSession, variant_ids: Collection[int]) -> dict[int, int]:
    """variant id → product id."""
    if not variant_ids:
        return {}
    stmt = select(VARIANTS.c.id, VARIANTS.c.product_id).where(
        matches_any(VARIANTS.c.id, list(variant_ids), session.get_bind().dialect)
    )
    return {int(v): int(p) for v, p in (await session.execute(stmt)).all()}


async def insert_orders(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert new orders; those another transaction inserted first are skipped (the unique key
    decides). Returns the ids of those actually inserted, by marketplace id."""
    inserted = await insert_many(
        session,
        ORDERS,
        rows,
        returning=("marketplace_order_id", "id"),
        skip_conflicts_on=("account_id", "marketplace_order_id"),
    )
    return {str(r[0]): int(r[1]) for r in inserted}


async def lines_of(session: AsyncSession, order_ids: Collection[int]) -> list[dict[str, Any]]:
    if not order_ids:
        return []
    stmt = select(LINES).where(
        matches_any(LINES.c.order_id, list(order_ids), session.get_bind().dialect)
    )
    return [dict(r) for r in (await session.execute(stmt)).mappings().all()]


async def variants_for(
    session: AsyncSession, agency_id: int, skus: Collection[str], ids: Collection[int]
) -> list[VariantStock]:
    """The agency's variants with these SKUs or ids, locked (in id order, so two ingests lock
    shared variants in the same order and never deadlock)."""
    dialect = session.get_bind().dialect
    wanted = [matches_any(VARIANTS.c.sku, list(skus), dialect)] if skus else []
    if ids:
        wanted.append(matches_any(VARIANTS.c.id, list(ids), dialect))
    if not wanted:
        return []
    stmt = _for_update(
        select(
            VARIANTS.c.id, VARIANTS.c.sku, VARIANTS.c.product_id, VARIANTS.c.stock_on_hand
        ).where(VARIANTS.c.agency_id == agency_id, or_(*wanted)),
        session,
    ).order_by(VARIANTS.c.id)
    return [VariantStock(*r) for r in (await session.execute(stmt)).all()]


def _postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _unnest(table: Table, rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> Any:
    """PostgreSQL: the rows as `unnest(one array per column) AS u(names)`, typed like the
    table's columns (`_id` is the primary key), so any number of rows is one statement with a
    fixed number of parameters, prepared once."""
    arrays = []
    columns = []
    for name in names:
        type_ = table.c["id" if name == "_id" else name].type
        arrays.append(bindparam(None, [row[name] for row in rows], type_=ARRAY(type_)))
        columns.append(column(name, type_))
    return func.unnest(*arrays).table_valued(*columns).render_derived(name="u")


async def update_rows(
    session: AsyncSession, model: type[Any], rows: Sequence[Mapping[str, Any]]
) -> None:
    """UPDATE by primary key (`_id`), one statement for rows with the same keys: on PostgreSQL
    an UPDATE ... FROM unnest(arrays), elsewhere an executemany."""
    by_keys: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        by_keys.setdefault(tuple(row), []).append(row)
    table = table_of(model)
    for keys, group in by_keys.items():
        if _postgres(session):
            # In id order, so two transactions updating the same rows lock them in one order.
            group.sort(key=lambda r: r["_id"])
            source = _unnest(table, group, keys)
            await session.execute(
                update(table)
                .where(table.c.id == source.c["_id"])
                .values({k: source.c[k] for k in keys if k != "_id"})
            )
            continue
        stmt = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({k: bindparam(k) for k in keys if k != "_id"})
        )
        await session.execute(stmt, [dict(r) for r in group])


async def insert_rows(
    session: AsyncSession, model: type[Any], rows: Sequence[Mapping[str, Any]]
) -> None:
    await insert_many(session, table_of(model), rows)


ROLLUP_KEY = ("grain", "period_start", "account_id", "product_key")


async def add_to_rollups(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add signed amounts to the rollup rows (created at zero when missing): one INSERT ... ON
    CONFLICT DO UPDATE. `rows` has one row per key, in key order (the order rows are locked)."""
    if not rows:
        return
    insert = _insert(session)
    names = list(rows[0])
    if _postgres(session):
        source = _unnest(ROLLUPS, rows, names)
        stmt = insert(ROLLUPS).from_select(names, select(*(source.c[n] for n in names)))
    else:
        stmt = insert(ROLLUPS)
    excluded: Mapping[str, ColumnElement[Any]] = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=list(ROLLUP_KEY),
        set_={c: ROLLUPS.c[c] + excluded[c] for c in ROLLUP_SUMS},
    )
    if _postgres(session):
        await session.execute(stmt)
    else:
        await session.execute(stmt, [dict(r) for r in rows])


async def touch_cursor(session: AsyncSession, account_id: int, now: datetime) -> None:
    stmt = _insert(session)(CURSORS).values(account_id=account_id, ingested_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=["account_id"], set_={"ingested_at": now})
    await session.execute(stmt)


# the pull cursor and its lease ---------------------------------------------------------------


async def take_pull_lease(
    session: AsyncSession, account_id: int, owner: str, now: datetime, ttl_s: float
) -> bool:
    """Hold the account's pull lease for `ttl_s` (taken, renewed, or refused)."""
    await session.execute(
        _insert(session)(CURSORS).values(account_id=account_id).on_conflict_do_nothing()
    )
    result = await session.execute(
        update(CURSORS)
        .where(
            CURSORS.c.account_id == account_id,
            or_(
                CURSORS.c.lease_owner.is_(None),
                CURSORS.c.lease_owner == owner,
                CURSORS.c.lease_expires_at < now,
            ),
        )
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=ttl_s))
    )
    return bool(getattr(result, "rowcount", 0))


async def release_pull_lease(session: AsyncSession, account_id: int, owner: str) -> None:
    await session.execute(
        update(CURSORS)
        .where(and_(CURSORS.c.account_id == account_id, CURSORS.c.lease_owner == owner))
        .values(lease_owner=None, lease_expires_at=None)
    )


async def get_cursor(session: AsyncSession, account_id: int) -> OrderCursor | None:
    return await session.get(OrderCursor, account_id, populate_existing=True)


async def save_cursor(session: AsyncSession, account_id: int, values: Mapping[str, Any]) -> None:
    await session.execute(
        update(CURSORS).where(CURSORS.c.account_id == account_id).values(dict(values))
    )


# reads for the API ---------------------------------------------------------------------------


async def list_orders(
    session: AsyncSession,
    *,
    agency_scope: int | None,
    after: int,
    limit: int,
    account_id: int | None = None,
    status: OrderStatus | None = None,
    sku: str | None = None,
    purchased_from: datetime | None = None,
    purchased_before: datetime | None = None,
    newest_first: bool = False,
    with_history: bool = False,
) -> list[tuple[Order, str]]:
    """Orders with their account's adapter slug after the cursor id: oldest first, or newest
    first (then the cursor is the smallest id of the previous page, 0 for the first page)."""
    query = (
        select(Order, MarketplaceAccount.adapter)
        .join(MarketplaceAccount, MarketplaceAccount.id == Order.account_id)
        .options(selectinload(Order.lines))
    )
    if with_history:
        query = query.options(selectinload(Order.history))
    if newest_first:
        if after:
            query = query.where(Order.id < after)
    else:
        query = query.where(Order.id > after)
    if agency_scope is not None:
        query = query.where(Order.agency_id == agency_scope)
    if account_id is not None:
        query = query.where(Order.account_id == account_id)
    if status is not None:
        query = query.where(Order.status == status)
    if sku is not None:
        query = query.where(exists().where(OrderLine.order_id == Order.id, OrderLine.sku == sku))
    if purchased_from is not None:
        query = query.where(Order.purchased_at >= purchased_from)
    if purchased_before is not None:
        query = query.where(Order.purchased_at < purchased_before)
    order_by = Order.id.desc() if newest_first else Order.id
    rows = await session.execute(query.order_by(order_by).limit(limit))
    return [(order, adapter) for order, adapter in rows.all()]


async def get_order(
    session: AsyncSession, order_id: int, agency_scope: int | None
) -> tuple[Order, str] | None:
    query = (
        select(Order, MarketplaceAccount.adapter)
        .join(MarketplaceAccount, MarketplaceAccount.id == Order.account_id)
        .where(Order.id == order_id)
        .options(selectinload(Order.lines), selectinload(Order.history))
    )
    if agency_scope is not None:
        query = query.where(Order.agency_id == agency_scope)
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])
