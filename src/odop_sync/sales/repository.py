"""The summary's queries: rollup rows per segment of the range, grouped by the asked dimensions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.models import (
    MarketplaceAccount,
    OrderCursor,
    Producer,
    Product,
    SalesGrain,
    SalesRollup,
)
from odop_sync.orders.lines import ROLLUP_SUMS
from odop_sync.sales.schemas import Dimension

R, A, P, PR = SalesRollup, MarketplaceAccount, Product, Producer
SUMS = ROLLUP_SUMS


@dataclass(frozen=True, slots=True)
class Segment:
    grain: SalesGrain
    start: date
    end: date  # inclusive
    tag: str  # "cur" or "prev"
    # Every day of it falls in one bucket of the asked period: summed into one row, dated at
    # its start, instead of one row per day.
    one_bucket: bool = False


@dataclass(frozen=True, slots=True)
class Filters:
    agency_ids: Collection[int] | None  # None: every agency (admin)
    account_id: int | None = None
    marketplace: str | None = None
    district: str | None = None
    producer_id: int | None = None
    craft: str | None = None
    product_id: int | None = None


def _dimension_columns(dim: Dimension) -> list[ColumnElement[Any]]:
    columns: dict[Dimension, list[ColumnElement[Any]]] = {
        Dimension.DISTRICT: [P.district_code.label("district")],
        Dimension.PRODUCER: [
            P.producer_id.label("producer_id"),
            PR.name_en.label("producer"),
            PR.kind.label("producer_kind"),
            PR.name_hi.label("producer_hi"),
        ],
        Dimension.CRAFT: [P.craft.label("craft")],
        Dimension.PRODUCT: [
            P.id.label("product_id"),
            P.title_en.label("product"),
            P.title_hi.label("product_hi"),
        ],
        Dimension.MARKETPLACE: [A.adapter.label("marketplace")],
    }
    return columns[dim]


_PRODUCT_DIMENSIONS = {Dimension.DISTRICT, Dimension.PRODUCER, Dimension.CRAFT, Dimension.PRODUCT}


def _segment_totals(
    segment: Segment, by_product: bool, by_account: bool, by_period: bool, filters: Filters
) -> Select[Any]:
    """The segment's rollup rows summed per product, account and period start, each only when
    the grouping or a filter needs it: a few thousand rows at most, whatever the range."""
    rollups = R.__table__.c
    keys: list[ColumnElement[Any]] = []
    if by_product:
        keys.append(rollups.product_key)
    if by_account:
        keys.append(rollups.account_id)
    columns = list(keys)
    if by_period and segment.one_bucket:
        columns.append(literal(segment.start, Date).label("period_start"))
    elif by_period:
        keys.append(rollups.period_start)
        columns.append(rollups.period_start)
    query = select(
        literal(segment.tag).label("tag"), *columns, *(func.sum(rollups[s]).label(s) for s in SUMS)
    ).where(
        rollups.grain == segment.grain.value,
        rollups.period_start >= segment.start,
        rollups.period_start <= segment.end,
    )
    if filters.agency_ids is not None:
        query = query.where(rollups.agency_id.in_(list(filters.agency_ids)))
    if filters.account_id is not None:
        query = query.where(rollups.account_id == filters.account_id)
    if filters.product_id is not None:
        query = query.where(rollups.product_key == filters.product_id)
    if by_period and segment.one_bucket:
        # Grouped by period, a segment without rows has no group (not one row of NULLs).
        query = query.having(func.count() > 0)
    return query.group_by(*keys) if keys else query


def summary_query(
    segments: Sequence[Segment], dims: Sequence[Dimension], by_period: bool, filters: Filters
) -> Select[Any]:
    """One row per group and tag (and period start): the segments' per-product totals, joined
    to products, producers and accounts only after they are summed (joining every rollup row
    first cost three index probes a row: 90 ms over a year of 400 products)."""
    by_account = Dimension.MARKETPLACE in dims or filters.marketplace is not None
    by_product = bool(_PRODUCT_DIMENSIONS.intersection(dims)) or any(
        f is not None for f in (filters.district, filters.producer_id, filters.craft)
    )
    parts = [_segment_totals(s, by_product, by_account, by_period, filters) for s in segments]
    totals = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("totals")
    keys = [c for d in dims for c in _dimension_columns(d)]
    if by_period:
        keys.append(totals.c.period_start)
    query = select(*keys, totals.c.tag, *(func.sum(totals.c[s]).label(s) for s in SUMS))
    query = query.select_from(totals)
    if by_account:
        query = query.join(A, A.id == totals.c.account_id)
    if by_product:
        query = query.outerjoin(P, P.id == totals.c.product_key)
    if Dimension.PRODUCER in dims:
        query = query.outerjoin(PR, PR.id == P.producer_id)
    if filters.marketplace is not None:
        query = query.where(A.adapter == filters.marketplace)
    if filters.district is not None:
        query = query.where(P.district_code == filters.district)
    if filters.producer_id is not None:
        query = query.where(P.producer_id == filters.producer_id)
    if filters.craft is not None:
        query = query.where(P.craft == filters.craft)
    return query.group_by(*keys, totals.c.tag)


async def summary_rows(
    session: AsyncSession,
    segments: Sequence[Segment],
    dims: Sequence[Dimension],
    by_period: bool,
    filters: Filters,
) -> list[dict[str, Any]]:
    if not segments:
        return []
    stmt = summary_query(segments, dims, by_period, filters)
    return [dict(r) for r in (await session.execute(stmt)).mappings().all()]


async def as_of(session: AsyncSession, agency_ids: Collection[int] | None) -> datetime | None:
    """The oldest of the accounts' last pulls (or last ingested page): figures are complete up
    to there for every account in scope."""
    query = select(func.min(func.coalesce(OrderCursor.pulled_at, OrderCursor.ingested_at))).join(
        A, A.id == OrderCursor.account_id
    )
    if agency_ids is not None:
        query = query.where(A.agency_id.in_(list(agency_ids)))
    value = await session.scalar(query)
    if isinstance(value, str):  # SQLite: an aggregate loses the column type
        value = datetime.fromisoformat(value)
    return value


async def as_of_by_marketplace(
    session: AsyncSession, agency_ids: Collection[int] | None
) -> list[tuple[str, datetime | None]]:
    """`as_of` per adapter slug of the accounts in scope, by slug: the oldest last pull of that
    marketplace's accounts (None while none of them has been pulled)."""
    query = (
        select(A.adapter, func.min(func.coalesce(OrderCursor.pulled_at, OrderCursor.ingested_at)))
        .select_from(A)
        .outerjoin(OrderCursor, OrderCursor.account_id == A.id)
        .group_by(A.adapter)
        .order_by(A.adapter)
    )
    if agency_ids is not None:
        query = query.where(A.agency_id.in_(list(agency_ids)))
    out: list[tuple[str, datetime | None]] = []
    for adapter, value in (await session.execute(query)).all():
        if isinstance(value, str):  # SQLite: an aggregate loses the column type
            value = datetime.fromisoformat(value)
        out.append((str(adapter), value))
    return out
