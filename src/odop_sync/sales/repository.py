"""The summary's queries: rollup rows per segment of the range, grouped by the asked dimensions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.models import (
    MarketplaceAccount,
    OrderCursor,
    Producer,
    Product,
    SalesGrain,
    SalesRollup,
)
from odop_sync.sales.schemas import Dimension

R, A, P, PR = SalesRollup, MarketplaceAccount, Product, Producer
SUMS = ("units", "units_net", "gross_paise", "net_paise", "orders")


@dataclass(frozen=True, slots=True)
class Segment:
    grain: SalesGrain
    start: date
    end: date  # inclusive
    tag: str  # "cur" or "prev"


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
        Dimension.PRODUCER: [P.producer_id.label("producer_id"), PR.name_en.label("producer")],
        Dimension.CRAFT: [P.craft.label("craft")],
        Dimension.PRODUCT: [P.id.label("product_id"), P.title_en.label("product")],
        Dimension.MARKETPLACE: [A.adapter.label("marketplace")],
    }
    return columns[dim]


def _segment_query(
    segment: Segment, dims: Sequence[Dimension], by_period: bool, filters: Filters
) -> Select[Any]:
    columns = [c for d in dims for c in _dimension_columns(d)]
    keys = list(columns)
    if by_period:
        keys.append(R.__table__.c.period_start)
    query = (
        select(
            *keys,
            literal(segment.tag).label("tag"),
            *(func.sum(getattr(R, s)).label(s) for s in SUMS),
        )
        .select_from(R)
        .join(A, A.id == R.account_id)
        .outerjoin(P, P.id == R.product_key)
        .where(
            R.grain == segment.grain.value,
            R.period_start >= segment.start,
            R.period_start <= segment.end,
        )
    )
    if Dimension.PRODUCER in dims:
        query = query.outerjoin(PR, PR.id == P.producer_id)
    if filters.agency_ids is not None:
        query = query.where(R.agency_id.in_(list(filters.agency_ids)))
    if filters.account_id is not None:
        query = query.where(R.account_id == filters.account_id)
    if filters.marketplace is not None:
        query = query.where(A.adapter == filters.marketplace)
    if filters.district is not None:
        query = query.where(P.district_code == filters.district)
    if filters.producer_id is not None:
        query = query.where(P.producer_id == filters.producer_id)
    if filters.craft is not None:
        query = query.where(P.craft == filters.craft)
    if filters.product_id is not None:
        query = query.where(R.product_key == filters.product_id)
    return query.group_by(*keys) if keys else query


async def summary_rows(
    session: AsyncSession,
    segments: Sequence[Segment],
    dims: Sequence[Dimension],
    by_period: bool,
    filters: Filters,
) -> list[dict[str, Any]]:
    queries = [_segment_query(s, dims, by_period, filters) for s in segments]
    if not queries:
        return []
    stmt = queries[0] if len(queries) == 1 else union_all(*queries)
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
