from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field


class Dimension(StrEnum):
    DISTRICT = "district"
    PRODUCER = "producer"
    CRAFT = "craft"
    PRODUCT = "product"
    MARKETPLACE = "marketplace"
    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"


PERIODS = (Dimension.DAY, Dimension.MONTH, Dimension.QUARTER)


class SalesFigures(BaseModel):
    units: int = Field(description="units ordered")
    units_net: int = Field(description="units ordered less cancelled and returned")
    gross: Decimal = Field(description="INR, units ordered × unit price")
    net: Decimal = Field(description="INR, cancelled and returned units left out")
    orders: int = Field(description="orders placed (an order counts under its first line)")
    previous_net: Decimal = Field(description="INR, net of the period before, of equal length")
    growth_percent: Decimal | None = Field(
        description="net against previous_net; null when there was nothing before"
    )


class SalesRow(SalesFigures):
    district: str | None = None
    producer_id: int | None = None
    producer: str | None = None
    craft: str | None = None
    product_id: int | None = Field(default=None, description="null: lines of unknown SKUs")
    product: str | None = None
    marketplace: str | None = None
    period: str | None = Field(default=None, description="2025-11-03, 2025-11 or 2025-Q4")


class SalesSummary(BaseModel):
    from_: date = Field(alias="from")
    to: date
    group_by: list[Dimension]
    as_of: datetime | None = Field(
        description="every account in scope had its orders pulled up to this moment"
    )
    currency: str = "INR"
    rows: list[SalesRow]
    totals: SalesFigures

    model_config = {"populate_by_name": True}
