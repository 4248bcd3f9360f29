from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from odop_sync.models.base import Base, BigId, IdMixin, JsonType, TimestampMixin


def _values(e: type[enum.Enum]) -> list[str]:
    return [str(m.value) for m in e]


class BatchStatus(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class RowStatus(enum.StrEnum):
    PENDING = "pending"
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


class Batch(IdMixin, TimestampMixin, Base):
    """A publish batch: stored with all its rows before the API answers 202."""

    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("agency_id", "idempotency_key"),)

    agency_id: Mapped[int] = mapped_column(BigId, ForeignKey("agencies.id"), index=True)
    status: Mapped[BatchStatus] = mapped_column(
        Enum(BatchStatus, native_enum=False, length=16, values_callable=_values)
    )
    source: Mapped[str] = mapped_column(String(8))  # json | csv | xlsx
    filename: Mapped[str | None] = mapped_column(String(255))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_digest: Mapped[str] = mapped_column(String(64))
    producers: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    # Issues found in the producers section, [{row, field, message}]; those producers were skipped.
    producer_issues: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType)
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    actor: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(String(2000))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class BatchRow(IdMixin, Base):
    """One row of a batch, its raw input and its outcome."""

    __tablename__ = "batch_rows"
    __table_args__ = (
        UniqueConstraint("batch_id", "row_no"),
        Index("ix_batch_rows_batch_id_status", "batch_id", "status"),
    )

    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"))
    # 1-based; for sheets the spreadsheet row number (header is row 1), for JSON the item index + 1.
    row_no: Mapped[int]
    sku: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    status: Mapped[RowStatus] = mapped_column(
        Enum(RowStatus, native_enum=False, length=16, values_callable=_values)
    )
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType)
    # [{row, field, message}] found at intake (a product column overridden by this row).
    warnings: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType)
