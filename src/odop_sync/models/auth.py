from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odop_sync.models.base import Base, BigId, IdMixin, TimestampMixin


class Role(enum.StrEnum):
    ADMIN = "admin"
    AGENCY = "agency"
    PARTNER = "partner"


class ApiKey(IdMixin, TimestampMixin, Base):
    """An API key stored as a SHA-256 digest (keys are 256-bit random: no slow hash needed)."""

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    # The agency an agency key acts for; None for admin and partner keys.
    agency_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agencies.id"), index=True)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    grants: Mapped[list[ApiKeyGrant]] = relationship(lazy="raise")


class ApiKeyGrant(IdMixin, Base):
    """An agency whose sales a partner key may read."""

    __tablename__ = "api_key_grants"

    api_key_id: Mapped[int] = mapped_column(BigId, ForeignKey("api_keys.id"), index=True)
    agency_id: Mapped[int] = mapped_column(BigId, ForeignKey("agencies.id"))
