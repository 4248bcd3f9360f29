from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from odop_sync.kit.time import utcnow
from odop_sync.models.base import Base, IdMixin


class FxRate(IdMixin, Base):
    """INR per one unit of another currency, as published by `source` for `valid_on`.

    The rate in force on a day D is the one with the newest valid_on on or before D (between
    sources on that date, the one entered last). Setting the same (currency, valid_on, source)
    again replaces the rate; the audit log keeps what it replaced."""

    __tablename__ = "fx_rates"
    __table_args__ = (
        UniqueConstraint("currency", "valid_on", "source"),
        Index("ix_fx_rates_currency_valid_on", "currency", "valid_on"),
        CheckConstraint("rate > 0", name="rate_positive"),
    )

    currency: Mapped[str] = mapped_column(String(3))  # ISO 4217, never INR
    rate: Mapped[Decimal] = mapped_column(Numeric(14, 6))  # INR per 1 unit
    source: Mapped[str] = mapped_column(String(40))  # RBI, FBIL, SBI TT …
    valid_on: Mapped[date] = mapped_column(Date)
    # When this rate was entered (again, when it replaced another), and by whom: an API key
    # ("key:12") or "cli".
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
