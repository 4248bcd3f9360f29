from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from odop_sync.kit.time import utcnow
from odop_sync.models.base import Base, BigId, IdMixin, JsonType


class AuditRecord(IdMixin, Base):
    """Who changed what, with the state before and after."""

    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_records_entity", "entity", "entity_id"),)

    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    agency_id: Mapped[int | None] = mapped_column(BigId, index=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(BigId)
    action: Mapped[str] = mapped_column(String(16))  # create | update | delete
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    request_id: Mapped[str | None] = mapped_column(String(64))
