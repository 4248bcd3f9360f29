from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from odop_sync.adapter_sdk import OrderStatus


class OrderLineRead(BaseModel):
    id: int
    line_key: str = Field(description="the marketplace's line id, or the SKU when it gives none")
    sku: str
    variant_id: int | None
    unmatched: bool = Field(description="the SKU is not in the catalog: kept, moves no stock")
    quantity: int
    quantity_cancelled: int
    quantity_returned: int
    quantity_net: int = Field(description="ordered − cancelled − returned")
    unit_price: Decimal = Field(description="in the order's currency")
    inr_rate: Decimal | None = Field(
        description="INR per unit of the order's currency, as booked; null: no rate yet"
    )
    stock_out: int = Field(description="units this line holds out of on-hand stock")


class OrderStatusChangeRead(BaseModel):
    from_status: OrderStatus | None
    to_status: OrderStatus
    marketplace_status: str
    changed_at: datetime = Field(description="when the marketplace changed it")
    recorded_at: datetime


class OrderRead(BaseModel):
    id: int
    account_id: int
    marketplace: str = Field(description="the account's adapter, e.g. amazon")
    marketplace_order_id: str
    status: OrderStatus
    marketplace_status: str
    purchased_at: datetime
    remote_updated_at: datetime
    currency: str
    units: int
    total: Decimal = Field(description="ordered units × unit price, in the order's currency")
    inr_rate: Decimal | None = Field(
        description="INR per unit of the order's currency it is booked at (1 for INR); null "
        "while no rate exists (see inr_rate_missing)"
    )
    inr_rate_source: str | None = Field(
        description='"marketplace" when the marketplace gave the rate, else the FX store\'s '
        "source (RBI, FBIL …); null for INR"
    )
    inr_rate_date: date | None = Field(
        description="the day the rate is valid for: the FX store rate's valid_on, or the "
        "purchase day for the marketplace's own rate"
    )
    inr_rate_missing: str | None = Field(
        description="why the order has no INR value yet, in plain words; it is left out of "
        "the INR sales figures until a rate is set (then it is priced at once)"
    )


class OrderDetail(OrderRead):
    lines: list[OrderLineRead]
    history: list[OrderStatusChangeRead] = Field(description="oldest first")


class OrderListItem(OrderRead):
    """An order in a list: with `?details=true` also its lines and status history."""

    lines: list[OrderLineRead] | None = Field(
        default=None, description="with ?details=true: the order's lines; else null"
    )
    history: list[OrderStatusChangeRead] | None = Field(
        default=None, description="with ?details=true: status changes, oldest first; else null"
    )
