from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from odop_sync.models import ProducerKind


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
    units_cancelled: int = Field(
        description="of the units ordered in the range, those cancelled since"
    )
    units_returned: int = Field(
        description="of the units ordered in the range, those returned since"
    )
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
    producer_kind: ProducerKind | None = Field(
        default=None, description="grouped by producer: the producer's kind"
    )
    producer_hi: str | None = Field(
        default=None, description="grouped by producer: the producer's name in Hindi"
    )
    craft: str | None = None
    product_id: int | None = Field(default=None, description="null: lines of unknown SKUs")
    product: str | None = None
    product_hi: str | None = Field(
        default=None, description="grouped by product: the product's title in Hindi"
    )
    marketplace: str | None = None
    period: str | None = Field(default=None, description="2025-11-03, 2025-11 or 2025-Q4")


class MarketplaceFreshness(BaseModel):
    marketplace: str = Field(description="the adapter slug, e.g. amazon")
    as_of: datetime | None = Field(
        description="every account of this marketplace in scope had its orders pulled up to "
        "this moment; null: none has been pulled yet"
    )


class SalesSummary(BaseModel):
    from_: date = Field(alias="from")
    to: date
    group_by: list[Dimension]
    as_of: datetime | None = Field(
        description="every account in scope had its orders pulled up to this moment"
    )
    as_of_by_marketplace: list[MarketplaceFreshness] = Field(
        description="per marketplace with an account in scope: as `as_of`, for its accounts"
    )
    currency: str = "INR"
    rows: list[SalesRow]
    totals: SalesFigures

    model_config = {"populate_by_name": True}
