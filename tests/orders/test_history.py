"""The history import (odop_sync.orders.history): past orders written as ingest writes them,
but without moving stock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.adapter_sdk import OrderStatus
from odop_sync.db import transaction
from odop_sync.models import Order, OrderLine, OrderStatusChange, SalesRollup, StockMovement
from odop_sync.orders.history import PastOrder, catalog_skus, load_history
from tests.orders.helpers import T0, Shop, ingest_page, line, order, stock

S = OrderStatus
ORDERS = [
    order("H-1", line("BHD-RUG-RED", 2), line("FZD-BANGLE", 3, returned=1), status=S.DELIVERED),
    order("H-2", line("VNS-SAREE", 1), status=S.CANCELLED, at=T0 - timedelta(days=40)),
    order("H-3", line("UNKNOWN-SKU", 4, cancelled=1), at=T0 - timedelta(hours=5)),
]


async def _rollups(sm: async_sessionmaker[AsyncSession], account_id: int) -> list[Any]:
    r = SalesRollup
    async with sm() as s:
        rows = await s.execute(
            select(r.grain, r.period_start, r.product_key, r.units, r.units_net,
                   r.units_cancelled, r.units_returned, r.gross_paise, r.net_paise, r.orders)
            .where(r.account_id == account_id)
            .order_by(r.grain, r.period_start, r.product_key)
        )  # fmt: skip
        return [tuple(row) for row in rows.all()]


async def _lines(sm: async_sessionmaker[AsyncSession], account_id: int) -> list[Any]:
    async with sm() as s:
        rows = await s.execute(
            select(Order.marketplace_order_id, Order.status, OrderLine.line_key,
                   OrderLine.variant_id, OrderLine.unmatched, OrderLine.quantity,
                   OrderLine.quantity_cancelled, OrderLine.quantity_returned,
                   OrderLine.stock_out)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.account_id == account_id)
            .order_by(Order.marketplace_order_id, OrderLine.line_key)
        )  # fmt: skip
        return [tuple(row) for row in rows.all()]


async def test_history_writes_the_rows_ingest_writes_but_moves_no_stock(
    sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
) -> None:
    stock_before = await stock(sessionmaker)
    async with transaction(sessionmaker) as s:
        skus = await catalog_skus(s, shop.agency_id)
        written = await load_history(s, shop.flipkart, [PastOrder(o) for o in ORDERS], skus)
    assert written == 4
    assert await stock(sessionmaker) == stock_before
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(StockMovement)) == 0

    await ingest_page(sessionmaker, shop.amazon, *ORDERS)
    assert await _rollups(sessionmaker, shop.flipkart.id) == await _rollups(
        sessionmaker, shop.amazon.id
    )
    ingested = await _lines(sessionmaker, shop.amazon.id)
    imported = await _lines(sessionmaker, shop.flipkart.id)
    assert [row[:-1] for row in imported] == [row[:-1] for row in ingested]
    assert [row[-1] for row in imported] == [0, 0, 0, 0]
    # Ingest took the kept units out of stock: 2 rugs, 2 bangles (3 less 1 returned).
    assert [row[-1] for row in ingested] == [2, 2, 0, 0]


async def test_an_order_loaded_again_is_left_alone_and_its_history_kept(
    sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
) -> None:
    delivered = order("H-9", line("FZD-BANGLE", 1), status=S.DELIVERED, updated_minutes=5000)
    past = PastOrder(
        delivered,
        earlier=((S.UNSHIPPED, "Unshipped", T0), (S.SHIPPED, "Shipped", T0 + timedelta(days=1))),
    )
    for _ in range(2):
        async with transaction(sessionmaker) as s:
            skus = await catalog_skus(s, shop.agency_id)
            await load_history(s, shop.amazon, [past], skus)
    async with sessionmaker() as s:
        steps = (
            await s.execute(
                select(OrderStatusChange.from_status, OrderStatusChange.to_status).order_by(
                    OrderStatusChange.id
                )
            )
        ).all()
        units = await s.scalar(select(SalesRollup.units).where(SalesRollup.grain == "d"))
    assert [tuple(step) for step in steps] == [
        (None, S.UNSHIPPED), (S.UNSHIPPED, S.SHIPPED), (S.SHIPPED, S.DELIVERED),
    ]  # fmt: skip
    assert units == 1
