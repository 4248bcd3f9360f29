from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odop_sync.adapter_sdk import OrderStatus
from odop_sync.kit.time import utcnow
from odop_sync.models.base import Base, BigId, IdMixin, TimestampMixin


def _values(e: type[enum.Enum]) -> list[str]:
    return [str(m.value) for m in e]


def _status_column() -> Enum:
    return Enum(OrderStatus, native_enum=False, length=16, values_callable=_values)


class Order(IdMixin, TimestampMixin, Base):
    """One marketplace order, as last pulled. (account, marketplace order id) is the dedup key."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "marketplace_order_id"),
        Index("ix_orders_agency_id_purchased_at", "agency_id", "purchased_at"),
    )

    agency_id: Mapped[int] = mapped_column(BigId, ForeignKey("agencies.id"))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("marketplace_accounts.id"))
    marketplace_order_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[OrderStatus] = mapped_column(_status_column())
    marketplace_status: Mapped[str] = mapped_column(String(64))
    purchased_at: Mapped[datetime]
    remote_updated_at: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    # INR per unit of `currency` the order is booked at (1 for INR): the marketplace's own when
    # it gives one, else the FX store's rate in force on the purchase day (India). NULL: no rate
    # at all yet; the order is kept but left out of the INR sales until one is set.
    inr_rate: Mapped[Decimal | None] = mapped_column(Numeric(14, 6))
    inr_rate_source: Mapped[str | None] = mapped_column(String(40))  # "marketplace", RBI …
    inr_rate_date: Mapped[date | None] = mapped_column(Date)  # the store rate's valid_on

    lines: Mapped[list[OrderLine]] = relationship(lazy="raise", order_by="OrderLine.position")
    history: Mapped[list[OrderStatusChange]] = relationship(
        lazy="raise", order_by="OrderStatusChange.id"
    )


class OrderLine(IdMixin, Base):
    """A line of an order. A line whose SKU is not in the agency's catalog is kept, flagged
    `unmatched`, and moves no stock until the SKU exists and the order is pulled again."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_key"),
        Index("ix_order_lines_sku", "sku"),
    )

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"))
    # The marketplace's line id, or the SKU when it gives none.
    line_key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]
    sku: Mapped[str] = mapped_column(String(40))
    variant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("variants.id"), index=True)
    unmatched: Mapped[bool]
    quantity: Mapped[int]
    quantity_cancelled: Mapped[int]  # as in force: all units when the order is cancelled
    quantity_returned: Mapped[int]
    unit_price_minor: Mapped[int]  # in the order's currency (paise for INR)
    # The order's booked rate; 1 for INR, 0 while the order has none (no INR value yet).
    inr_rate: Mapped[Decimal] = mapped_column(Numeric(14, 6))
    # The ledger side, so each unit moves exactly once however often the order is pulled:
    # units this line counts as out of stock, and of those the ones there was no stock for
    # (on hand never goes below 0), which a cancellation or return must not give back.
    stock_out: Mapped[int]
    stock_short: Mapped[int]


class OrderStatusChange(IdMixin, Base):
    __tablename__ = "order_status_changes"
    __table_args__ = (Index("ix_order_status_changes_order_id_id", "order_id", "id"),)

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"))
    from_status: Mapped[OrderStatus | None] = mapped_column(_status_column())
    to_status: Mapped[OrderStatus] = mapped_column(_status_column())
    marketplace_status: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime]  # the marketplace's update time
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderCursor(Base):
    """Where the order pull of an account stands, and who is pulling it now."""

    __tablename__ = "order_cursors"

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("marketplace_accounts.id"), primary_key=True
    )
    # The adapter's page cursor of the pass in progress (None between passes).
    cursor: Mapped[str | None] = mapped_column(Text)
    # Every order changed before this has been pulled; the next pass starts an overlap earlier.
    updated_after: Mapped[datetime | None]
    # The newest change seen in the pass in progress: the next watermark when it ends.
    pass_high: Mapped[datetime | None]
    pulled_at: Mapped[datetime | None]  # last pass completed
    ingested_at: Mapped[datetime | None]  # last page ingested
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]


class SalesGrain(enum.StrEnum):
    DAY = "d"
    MONTH = "m"


class SalesRollup(Base):
    """Order lines summed per account, product and day (and again per month, so a summary over
    years reads months plus at most two partial months of days). Ingest adds each line's change
    in the same transaction, so the figures follow every cancellation and return."""

    __tablename__ = "sales_rollups"
    __table_args__ = (
        UniqueConstraint("grain", "period_start", "account_id", "product_key"),
        Index(
            "ix_sales_rollups_agency_id_grain_period_start", "agency_id", "grain", "period_start"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    grain: Mapped[str] = mapped_column(String(1))
    period_start: Mapped[date] = mapped_column(Date)  # India Standard Time days
    agency_id: Mapped[int] = mapped_column(BigId, ForeignKey("agencies.id"))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("marketplace_accounts.id"))
    # products.id, or 0 for lines whose SKU is unknown (a key column, so not NULL).
    product_key: Mapped[int] = mapped_column(BigId)
    units: Mapped[int]
    units_net: Mapped[int]
    # Of `units`, those cancelled and those returned since (units_net = units - both).
    units_cancelled: Mapped[int] = mapped_column(server_default="0")
    units_returned: Mapped[int] = mapped_column(server_default="0")
    gross_paise: Mapped[int] = mapped_column(BigInteger)
    net_paise: Mapped[int] = mapped_column(BigInteger)
    # An order counts once, under the product of its first line.
    orders: Mapped[int]
