"""`GET /v1/sales/filters`: the districts, crafts, marketplaces and producers a summary's
filters can take in a key's scope, for a dashboard's drop-downs."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.catalog.districts import district_by_code
from odop_sync.models import MarketplaceAccount, Producer, ProducerKind, Product


class DistrictOption(BaseModel):
    code: str = Field(description="the `district` filter's value, e.g. UP-bhadohi")
    name_en: str = Field(description="the district's name (the code when it is not a known one)")
    name_hi: str | None = Field(description="the district's name in Hindi, when known")


class ProducerOption(BaseModel):
    id: int = Field(description="the `producer_id` filter's value")
    name_en: str
    name_hi: str | None
    kind: ProducerKind
    district: str | None = Field(description="the producer's district code")


class SalesFilters(BaseModel):
    districts: list[DistrictOption] = Field(
        description="the districts of the products in scope, by English name"
    )
    crafts: list[str] = Field(description="the crafts of the products in scope, sorted")
    marketplaces: list[str] = Field(
        description="the adapter slugs of the marketplace accounts in scope, sorted"
    )
    producers: list[ProducerOption] = Field(
        description="the producers in scope, by English name (then id)"
    )


def _scoped(query: Select[Any], column: Any, agency_ids: Collection[int] | None) -> Select[Any]:
    return query if agency_ids is None else query.where(column.in_(list(agency_ids)))


async def _distinct(
    session: AsyncSession, column: Any, agency_column: Any, agency_ids: Collection[int] | None
) -> list[str]:
    query = _scoped(select(column).where(column.is_not(None)).distinct(), agency_column, agency_ids)
    return sorted({str(v) for v in (await session.scalars(query)).all() if v})


async def sales_filters(session: AsyncSession, agency_ids: Collection[int] | None) -> SalesFilters:
    """The values present in the scope (None: every agency): its products' districts and
    crafts, its accounts' marketplaces, its producers."""
    codes = await _distinct(session, Product.district_code, Product.agency_id, agency_ids)
    districts = []
    for code in codes:
        known = district_by_code(code)
        districts.append(
            DistrictOption(
                code=code,
                name_en=known.name if known else code,
                name_hi=known.name_hi if known else None,
            )
        )
    districts.sort(key=lambda d: (d.name_en.casefold(), d.code))
    producer_query = select(
        Producer.id, Producer.name_en, Producer.name_hi, Producer.kind, Producer.district_code
    )
    if agency_ids is not None:
        producer_query = producer_query.where(Producer.agency_id.in_(list(agency_ids)))
    producers = await session.execute(producer_query)
    return SalesFilters(
        districts=districts,
        crafts=await _distinct(session, Product.craft, Product.agency_id, agency_ids),
        marketplaces=await _distinct(
            session, MarketplaceAccount.adapter, MarketplaceAccount.agency_id, agency_ids
        ),
        producers=sorted(
            (
                ProducerOption(id=i, name_en=en, name_hi=hi, kind=kind, district=district)
                for i, en, hi, kind, district in producers.all()
            ),
            # In Python, not SQL: the same order whatever the database's collation.
            key=lambda p: (p.name_en.casefold(), p.id),
        ),
    )
