from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Timezone-aware now in UTC; the only clock the service reads."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive values from SQLite are UTC by construction; make that explicit."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
