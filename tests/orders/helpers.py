"""A small catalog of two agencies' variants, marketplace accounts, and order DTO builders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.adapter_sdk import Money, OrderPage, OrderStatus, RemoteOrder, RemoteOrderLine
from odop_sync.db import transaction
from odop_sync.models import (
    Agency,
    MarketplaceAccount,
    Order,
    OrderLine,
    OrderStatusChange,
    Producer,
    ProducerKind,
    Product,
    SalesRollup,
    StockMovement,
    Variant,
)
from odop_sync.orders.service import ingest

T0 = datetime(2025, 11, 3, 6, 0, tzinfo=UTC)

# sku: (product ref, producer ref, district, craft, price in paise, stock)
CATALOG: dict[str, tuple[str, str, str, str, int, int]] = {
    "BHD-RUG-RED": ("BHD-RUG", "weavers", "bhadohi", "carpet weaving", 150_000, 5),
    "BHD-RUG-BLUE": ("BHD-RUG", "weavers", "bhadohi", "carpet weaving", 160_000, 3),
    "VNS-SAREE": ("VNS-SAREE", "silk-shg", "varanasi", "banarasi silk", 450_050, 2),
    "FZD-BANGLE": ("FZD-BANGLE", "glass-unit", "firozabad", "glass work", 29_900, 10),
}


@dataclass
class Shop:
    agency_id: int
    other_agency_id: int
    amazon: MarketplaceAccount
    flipkart: MarketplaceAccount
    other_account: MarketplaceAccount  # the other agency's
    variant_ids: dict[str, int] = field(default_factory=dict)
    product_ids: dict[str, int] = field(default_factory=dict)
    producer_ids: dict[str, int] = field(default_factory=dict)


def _account(agency_id: int, adapter: str, name: str) -> MarketplaceAccount:
    # Disabled: orders are ingested directly, and the sync engine leaves these accounts alone.
    return MarketplaceAccount(
        agency_id=agency_id, adapter=adapter, name=name, credentials_encrypted="-", enabled=False
    )


async def make_shop(sessionmaker: async_sessionmaker[AsyncSession]) -> Shop:
    async with transaction(sessionmaker) as s:
        agency = Agency(slug="up-odop", name="UP ODOP")
        other = Agency(slug="khadi-board", name="Khadi Board")
        s.add_all([agency, other])
        await s.flush()
        shop = Shop(
            agency.id,
            other.id,
            _account(agency.id, "amazon", "Amazon.in"),
            _account(agency.id, "flipkart", "Flipkart"),
            _account(other.id, "amazon", "Khadi on Amazon"),
        )
        s.add_all([shop.amazon, shop.flipkart, shop.other_account])
        for sku, (ref, producer_ref, district, craft, price, stock) in CATALOG.items():
            if producer_ref not in shop.producer_ids:
                producer = Producer(
                    agency_id=agency.id,
                    ref=producer_ref,
                    name_en=producer_ref,
                    kind=ProducerKind.SELF_HELP_GROUP,
                    district_code=district,
                    craft=craft,
                )
                s.add(producer)
                await s.flush()
                shop.producer_ids[producer_ref] = producer.id
            if ref not in shop.product_ids:
                product = Product(
                    agency_id=agency.id,
                    producer_id=shop.producer_ids[producer_ref],
                    ref=ref,
                    title_en=ref,
                    district_code=district,
                    craft=craft,
                    hsn_code="5701",
                    gst_rate=5,
                )
                s.add(product)
                await s.flush()
                shop.product_ids[ref] = product.id
            variant = Variant(
                agency_id=agency.id,
                product_id=shop.product_ids[ref],
                sku=sku,
                mrp_paise=price * 2,
                price_paise=price,
                stock_on_hand=stock,
                content_hash="-",
            )
            s.add(variant)
            await s.flush()
            shop.variant_ids[sku] = variant.id
    return shop


def line(
    sku: str,
    quantity: int = 1,
    *,
    price: int | None = None,
    line_id: str | None = None,
    cancelled: int = 0,
    returned: int = 0,
) -> RemoteOrderLine:
    paise = price if price is not None else CATALOG.get(sku, ("", "", "", "", 10_000, 0))[4]
    return RemoteOrderLine(
        line_id=line_id,
        sku=sku,
        quantity=quantity,
        unit_price=Money(amount=paise),
        quantity_cancelled=cancelled,
        quantity_returned=returned,
    )


def order(
    order_id: str,
    *lines: RemoteOrderLine,
    status: OrderStatus = OrderStatus.UNSHIPPED,
    at: datetime = T0,
    updated_minutes: float = 0,
) -> RemoteOrder:
    return RemoteOrder(
        order_id=order_id,
        status=status.value.upper(),
        canonical_status=status,
        purchased_at=at,
        updated_at=at + timedelta(minutes=updated_minutes),
        lines=lines,
    )


async def ingest_page(
    sessionmaker: async_sessionmaker[AsyncSession],
    account: MarketplaceAccount,
    *orders: RemoteOrder,
    cursor: str | None = None,
) -> list[int]:
    async with transaction(sessionmaker) as s:
        return await ingest(s, account, OrderPage(orders=orders, cursor=cursor))


async def stock(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessionmaker() as s:
        rows = await s.execute(select(Variant.sku, Variant.stock_on_hand))
        return {r[0]: r[1] for r in rows.all()}


async def snapshot(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Everything a user could see of orders: orders, lines, history, ledger, stock, rollups."""
    async with sessionmaker() as s:

        async def rows(query: Any) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in (await s.execute(query)).all()]

        return {
            "orders": await rows(
                select(
                    Order.account_id,
                    Order.marketplace_order_id,
                    Order.status,
                    Order.remote_updated_at,
                ).order_by(Order.account_id, Order.marketplace_order_id)
            ),
            "lines": await rows(
                select(
                    Order.marketplace_order_id,
                    OrderLine.line_key,
                    OrderLine.variant_id,
                    OrderLine.unmatched,
                    OrderLine.quantity,
                    OrderLine.quantity_cancelled,
                    OrderLine.quantity_returned,
                    OrderLine.stock_out,
                    OrderLine.stock_short,
                )
                .join(Order, Order.id == OrderLine.order_id)
                .order_by(Order.marketplace_order_id, OrderLine.line_key)
            ),
            "history": await rows(
                select(
                    Order.marketplace_order_id,
                    OrderStatusChange.from_status,
                    OrderStatusChange.to_status,
                )
                .join(Order, Order.id == OrderStatusChange.order_id)
                .order_by(Order.marketplace_order_id, OrderStatusChange.id)
            ),
            "ledger": await rows(
                select(
                    StockMovement.variant_id,
                    StockMovement.delta,
                    StockMovement.balance_after,
                    StockMovement.reason,
                    StockMovement.source_ref,
                ).order_by(StockMovement.id)
            ),
            "stock": {r[0]: r[1] for r in await rows(select(Variant.sku, Variant.stock_on_hand))},
            "rollups": await rows(
                select(
                    SalesRollup.grain,
                    SalesRollup.period_start,
                    SalesRollup.account_id,
                    SalesRollup.product_key,
                    SalesRollup.units,
                    SalesRollup.units_net,
                    SalesRollup.gross_paise,
                    SalesRollup.net_paise,
                    SalesRollup.orders,
                ).order_by(
                    SalesRollup.grain,
                    SalesRollup.period_start,
                    SalesRollup.account_id,
                    SalesRollup.product_key,
                )
            ),
            "movement_total": await s.scalar(select(func.count()).select_from(StockMovement)),
        }
