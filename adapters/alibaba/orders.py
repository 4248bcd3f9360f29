"""Trade Assurance orders → the core's orders: pure, no HTTP.

Statuses (PROTOCOL §7.12) onto the core's states as adapters/alibaba/CONTRACT.md reads them (I):
before payment or while the contract is being changed → pending; paid and not dispatched →
unshipped; on its way → shipped; trade_success → delivered; closed, unavailable or charged back →
cancelled (every unit back to stock). Lines go by SKU: `sku_code`, else `model_number` (our SKU
is the product's model number), else the product id. Amounts are USD as Alibaba.com states them;
the core books the INR rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from adapters.alibaba import wire
from odop_sync.adapter_sdk import Money, OrderStatus, RemoteOrder, RemoteOrderLine

CURRENCY = "USD"

STATUS: Mapping[str, OrderStatus] = {
    "to_be_audited": OrderStatus.PENDING,
    "intention_processing": OrderStatus.PENDING,
    "unpay": OrderStatus.PENDING,
    "paying": OrderStatus.PENDING,
    "wait_confirm_modify": OrderStatus.PENDING,
    "frozen": OrderStatus.PENDING,
    "paid": OrderStatus.UNSHIPPED,
    "captured": OrderStatus.UNSHIPPED,
    "relating": OrderStatus.UNSHIPPED,
    "undeliver": OrderStatus.UNSHIPPED,
    "delivering": OrderStatus.SHIPPED,
    "wait_confirm_receipt": OrderStatus.SHIPPED,
    "trade_success": OrderStatus.DELIVERED,
    "trade_close": OrderStatus.CANCELLED,
    "trade_unavailable": OrderStatus.CANCELLED,
    "charge_back": OrderStatus.CANCELLED,
}


def canonical_status(status: str | None) -> OrderStatus:
    # A status the reference does not list is treated as not final yet.
    return STATUS.get((status or "").strip().lower(), OrderStatus.PENDING)


def instant(date: wire.DateVo | None) -> datetime | None:
    """An epoch-millisecond DateVo as a UTC instant (format_date is PDT/PST text: not read)."""
    if date is None or date.timestamp is None:
        return None
    return datetime.fromtimestamp(date.timestamp / 1000, tz=UTC)


def units(quantity: str | int | float | None) -> int:
    """Units ordered: a decimal text such as "200.0000". Units of measure that are not whole
    (square metres) are rounded to the nearest unit, at least one when any was ordered."""
    try:
        amount = Decimal(str(quantity)) if quantity is not None else Decimal(0)
    except InvalidOperation:
        return 0
    if amount <= 0:
        return 0
    return max(1, int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def _unit_price(product: wire.OrderProduct) -> Money:
    value = product.unit_price.decimal() if product.unit_price else None
    currency = (product.unit_price.currency if product.unit_price else None) or CURRENCY
    return Money.from_decimal(value or Decimal(0), currency.upper())


def order_line(product: wire.OrderProduct, status: OrderStatus) -> RemoteOrderLine:
    quantity = units(product.quantity)
    sku = product.sku_code or product.model_number or str(product.product_id or product.id)
    return RemoteOrderLine(
        line_id=str(product.id) if product.id is not None else None,
        sku=sku,
        quantity=quantity,
        unit_price=_unit_price(product),
        quantity_cancelled=quantity if status is OrderStatus.CANCELLED else 0,
    )


def remote_order(order: wire.TradeOrder, summary: wire.OrderSummary | None = None) -> RemoteOrder:
    status_words = order.trade_status or (summary.trade_status if summary else None) or ""
    status = canonical_status(status_words)
    created = instant(order.create_date) or instant(summary.create_date if summary else None)
    changed = instant(order.modify_date) or instant(summary.modify_date if summary else None)
    purchased = created or changed or datetime.now(UTC)
    lines = tuple(order_line(p, status) for p in order.order_products)
    currency = next((line.unit_price.currency for line in lines), None)
    if currency is None and order.total_amount is not None:
        currency = (order.total_amount.currency or CURRENCY).upper()
    return RemoteOrder(
        order_id=order.trade_id,
        status=status_words,
        canonical_status=status,
        purchased_at=purchased,
        updated_at=changed,
        currency=currency or CURRENCY,
        lines=lines,
    )


__all__ = ["STATUS", "canonical_status", "instant", "order_line", "remote_order", "units"]
