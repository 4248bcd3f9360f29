from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from odop_sync.models import Producer, Product, Variant


async def list_products(
    session: AsyncSession,
    *,
    agency_scope: int | None,
    after: int,
    limit: int,
    district: str | None = None,
    craft: str | None = None,
    producer_id: int | None = None,
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
    return list(await session.scalars(query))


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


async def list_producers(
    session: AsyncSession, *, agency_scope: int | None, after: int, limit: int
) -> list[Producer]:
    query = select(Producer).where(Producer.id > after).order_by(Producer.id).limit(limit)
    if agency_scope is not None:
        query = query.where(Producer.agency_id == agency_scope)
    return list(await session.scalars(query))
