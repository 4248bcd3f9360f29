"""The catalog's queries: agencies, producers, products, variants and the rows `service` writes
(stock movements, audit records). Set-based where a batch chunk calls them: one statement per
call, whatever the number of rows."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, Update, bindparam, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from odop_sync.db import insert_many, matches_any
from odop_sync.models import Agency, AuditRecord, Producer, Product, StockMovement, Variant
from odop_sync.models.base import table_of

PRODUCTS = table_of(Product)
VARIANTS = table_of(Variant)


# Agencies.


async def add_agency(session: AsyncSession, *, slug: str, name: str, state: str | None) -> Agency:
    """Create the agency (flushed, so it has its id); IntegrityError when the slug is taken."""
    agency = Agency(slug=slug, name=name, state=state)
    session.add(agency)
    await session.flush()
    return agency


async def list_agencies(session: AsyncSession, only: Collection[int] | None) -> list[Agency]:
    """Agencies by id; `only` limits them to those ids (None: all)."""
    query = select(Agency).order_by(Agency.id)
    if only is not None:
        query = query.where(Agency.id.in_(only))
    return list(await session.scalars(query))


# Producers.


async def get_producer(
    session: AsyncSession, producer_id: int, agency_scope: int | None = None
) -> Producer | None:
    producer = await session.get(Producer, producer_id)
    if producer is None or (agency_scope is not None and producer.agency_id != agency_scope):
        return None
    return producer


async def producer_id_by_ref(session: AsyncSession, agency_id: int, ref: str) -> int | None:
    return await session.scalar(
        select(Producer.id).where(Producer.agency_id == agency_id, Producer.ref == ref)
    )


async def producers_by_ref(
    session: AsyncSession, agency_id: int, refs: Sequence[str]
) -> dict[str, Producer]:
    found = await session.scalars(
        select(Producer).where(Producer.agency_id == agency_id, Producer.ref.in_(refs))
    )
    return {p.ref: p for p in found}


async def producer_ids_by_ref(
    session: AsyncSession, agency_id: int, refs: Collection[str]
) -> dict[str, int]:
    found = await session.execute(
        select(Producer.ref, Producer.id).where(
            Producer.agency_id == agency_id,
            matches_any(table_of(Producer).c.ref, refs, session.get_bind().dialect),
        )
    )
    return dict(found.all())


async def list_producers(
    session: AsyncSession, *, agency_scope: int | None, after: int, limit: int
) -> list[Producer]:
    query = select(Producer).where(Producer.id > after).order_by(Producer.id).limit(limit)
    if agency_scope is not None:
        query = query.where(Producer.agency_id == agency_scope)
    return list(await session.scalars(query))


# Products and variants, as ORM objects for reading.


async def list_products(
    session: AsyncSession,
    *,
    agency_scope: int | None,
    after: int,
    limit: int,
    district: str | None = None,
    craft: str | None = None,
    producer_id: int | None = None,
    q: str | None = None,
) -> list[Product]:
    query = (
        select(Product)
        .where(Product.id > after)
        .order_by(Product.id)
        .limit(limit)
        .options(selectinload(Product.variants), selectinload(Product.producer))
    )
    if agency_scope is not None:
        query = query.where(Product.agency_id == agency_scope)
    if district:
        query = query.where(Product.district_code == district)
    if craft:
        query = query.where(Product.craft == craft)
    if producer_id is not None:
        query = query.where(Product.producer_id == producer_id)
    if q:
        query = query.where(_matches(q))
    return list(await session.scalars(query))


def _matches(q: str) -> ColumnElement[bool]:
    """Products whose English or Hindi title, or one of whose variant SKUs, contains `q`,
    ignoring case. Both sides go through the database's own lower(), so they fold alike (SQLite
    folds ASCII only, PostgreSQL all of Unicode; Devanagari has no case to fold)."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = func.lower(literal(f"%{escaped}%"))

    def like(column: Any) -> ColumnElement[bool]:
        return func.lower(column).like(pattern, escape="\\")

    return or_(
        like(Product.title_en),
        like(Product.title_hi),
        exists().where(Variant.product_id == Product.id, like(Variant.sku)),
    )


async def get_product(
    session: AsyncSession, product_id: int, agency_scope: int | None
) -> Product | None:
    query = (
        select(Product)
        .where(Product.id == product_id)
        .options(selectinload(Product.variants), selectinload(Product.producer))
    )
    if agency_scope is not None:
        query = query.where(Product.agency_id == agency_scope)
    return await session.scalar(query)


async def get_variant_by_sku(session: AsyncSession, agency_id: int, sku: str) -> Variant | None:
    return await session.scalar(
        select(Variant)
        .where(Variant.agency_id == agency_id, Variant.sku == sku)
        .options(selectinload(Variant.product).selectinload(Product.producer))
    )


async def reload_variant(session: AsyncSession, variant_id: int) -> Variant | None:
    """The variant as now stored (the session's copy refreshed)."""
    return await session.get(Variant, variant_id, populate_existing=True)


async def variant_ids_of_product(session: AsyncSession, product_id: int) -> list[int]:
    return list(await session.scalars(select(Variant.id).where(Variant.product_id == product_id)))


# Products and variants, as plain rows for `service.apply_items`.


async def rows_by(
    session: AsyncSession,
    model: type[Product] | type[Variant],
    key: str,
    agency_id: int,
    values: set[str],
) -> dict[str, dict[str, Any]]:
    """The agency's products (or variants) whose `key` is one of `values`, as dicts by key."""
    table = model.__table__
    result = await session.execute(
        select(table).where(
            table.c.agency_id == agency_id,
            matches_any(table.c[key], values, session.get_bind().dialect),
        )
    )
    return {row[key]: dict(row) for row in result.mappings()}


async def insert_products(
    session: AsyncSession, rows: Sequence[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """INSERT the products; (id, ref) of each one created. A ref another transaction created
    meanwhile is skipped, not an error (the caller reads it back)."""
    return await insert_many(
        session, PRODUCTS, rows, returning=("id", "ref"), skip_conflicts_on=("agency_id", "ref")
    )


async def insert_variants(
    session: AsyncSession, rows: Sequence[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """INSERT the variants; (id, sku) of each."""
    return await insert_many(session, VARIANTS, rows, returning=("id", "sku"))


async def update_products(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """UPDATE products by `_id` with the other keys of each row (all rows the same keys)."""
    await _update_by_id(session, PRODUCTS, rows)


async def update_variants(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """UPDATE variants by `_id` with the other keys of each row (all rows the same keys)."""
    await _update_by_id(session, VARIANTS, rows)


async def add_movements(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    await insert_many(session, table_of(StockMovement), rows)


async def add_audits(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    await insert_many(session, table_of(AuditRecord), rows)


async def _update_by_id(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """UPDATE … WHERE id = :_id, run as executemany (Core: no ORM bookkeeping per row)."""
    if rows:
        await session.execute(_update_statement(table, [k for k in rows[0] if k != "_id"]), rows)


def _update_statement(table: Table, columns: list[str]) -> Update:
    return (
        table.update()
        .where(table.c.id == bindparam("_id"))
        .values({name: bindparam(name) for name in columns})
    )
