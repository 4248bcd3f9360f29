from __future__ import annotations

import enum

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from odop_sync.models.base import Base, BigId, IdMixin, TimestampMixin


class Agency(IdMixin, TimestampMixin, Base):
    """A state agency or corporation that publishes on behalf of its producers."""

    __tablename__ = "agencies"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(64), default="Uttar Pradesh")


class ProducerKind(enum.StrEnum):
    ARTISAN = "artisan"
    SELF_HELP_GROUP = "self_help_group"
    KHADI_UNIT = "khadi_unit"
    COOPERATIVE = "cooperative"
    EXPORTER = "exporter"


class Producer(IdMixin, TimestampMixin, Base):
    """An artisan, SHG, khadi unit, cooperative or exporter whose goods an agency sells."""

    __tablename__ = "producers"
    __table_args__ = (UniqueConstraint("agency_id", "ref"),)

    agency_id: Mapped[int] = mapped_column(BigId, ForeignKey("agencies.id"), index=True)
    ref: Mapped[str] = mapped_column(String(64))
    kind: Mapped[ProducerKind] = mapped_column(
        Enum(
            ProducerKind,
            native_enum=False,
            length=32,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    name_en: Mapped[str] = mapped_column(String(200))
    name_hi: Mapped[str | None] = mapped_column(String(200))
    district_code: Mapped[str | None] = mapped_column(String(64), index=True)
    craft: Mapped[str | None] = mapped_column(String(120))
    pehchan_card: Mapped[str | None] = mapped_column(String(32))
    udyam_number: Mapped[str | None] = mapped_column(String(32))
    gstin: Mapped[str | None] = mapped_column(String(15))
    phone: Mapped[str | None] = mapped_column(String(20))
