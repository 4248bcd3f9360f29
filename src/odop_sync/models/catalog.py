from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odop_sync.kit.time import utcnow
from odop_sync.models.agency import Producer
from odop_sync.models.base import Base, BigId, IdMixin, JsonType, TimestampMixin


class Product(IdMixin, TimestampMixin, Base):
    """What a buyer sees as one product; its variants (SKUs) carry price, stock and images."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("agency_id", "ref"),)

    agency_id: Mapped[int] = mapped_column(BigId, ForeignKey("agencies.id"), index=True)
    producer_id: Mapped[int] = mapped_column(BigId, ForeignKey("producers.id"), index=True)
    ref: Mapped[str] = mapped_column(String(64))
    title_en: Mapped[str] = mapped_column(String(200))
    title_hi: Mapped[str | None] = mapped_column(String(200))
    description_en: Mapped[str | None] = mapped_column(Text)
    description_hi: Mapped[str | None] = mapped_column(Text)
    district_code: Mapped[str | None] = mapped_column(String(64), index=True)
    craft: Mapped[str | None] = mapped_column(String(120), index=True)
    odop_product: Mapped[str | None] = mapped_column(String(200))
    gi_tag: Mapped[str | None] = mapped_column(String(200))
    hsn_code: Mapped[str] = mapped_column(String(8))
    # Percent as a decimal string-safe numeric: 0.25, 3, 5, 18, 40.
    gst_rate: Mapped[Any] = mapped_column(Numeric(5, 2))
    # Wholesale (B2B, export) terms, `odop_sync.catalog.b2b.WholesaleTerms` as JSON; SQL NULL
    # (not JSON null) when the product has none, so "WHERE b2b IS NULL" finds those.
    b2b: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
    )

    producer: Mapped[Producer] = relationship(lazy="raise")
    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", lazy="raise", order_by="Variant.id"
    )


class Variant(IdMixin, TimestampMixin, Base):
    """One SKU: one row of a batch."""

    __tablename__ = "variants"
    __table_args__ = (UniqueConstraint("agency_id", "sku"),)

    agency_id: Mapped[int] = mapped_column(BigId, ForeignKey("agencies.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(40))
    mrp_paise: Mapped[int]
    price_paise: Mapped[int]
    stock_on_hand: Mapped[int] = mapped_column(default=0)
    weight_g: Mapped[Any | None] = mapped_column(Numeric(12, 2))
    length_cm: Mapped[Any | None] = mapped_column(Numeric(10, 2))
    width_cm: Mapped[Any | None] = mapped_column(Numeric(10, 2))
    height_cm: Mapped[Any | None] = mapped_column(Numeric(10, 2))
    material: Mapped[str | None] = mapped_column(String(120))
    color: Mapped[str | None] = mapped_column(String(60))
    size: Mapped[str | None] = mapped_column(String(60))
    images: Mapped[list[str]] = mapped_column(JsonType, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Hash of the canonical row as last applied: a re-sent identical row is "unchanged".
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)

    product: Mapped[Product] = relationship(back_populates="variants", lazy="raise")


class StockReason(enum.StrEnum):
    BATCH = "batch"
    MANUAL = "manual"
    ORDER = "order"
    CANCELLATION = "cancellation"
    RETURN = "return"
    RECONCILE = "reconcile"


class StockMovement(IdMixin, Base):
    """The stock ledger: every change of on-hand stock is one row with its reason."""

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_variant_id_id", "variant_id", "id"),)

    variant_id: Mapped[int] = mapped_column(BigId, ForeignKey("variants.id"))
    delta: Mapped[int]
    balance_after: Mapped[int]
    reason: Mapped[StockReason] = mapped_column(
        Enum(
            StockReason,
            native_enum=False,
            length=24,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    # What caused it: "batch:12#row:7", "api:PATCH", "order:AMZ-123#line:1".
    source_ref: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
