"""The order-pull cursor: where a `pull_orders` pass stands, as an opaque string the core stores
after each page and hands back to go on (after a restart too)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from odop_sync.adapter_sdk._errors import PayloadRejectedError

__all__ = ["DEFAULT_ORDER_LOOKBACK", "PullCursor"]

# How far back a first pull looks when the core names no start (a newly connected account).
DEFAULT_ORDER_LOOKBACK = timedelta(days=7)


class PullCursor(BaseModel):
    """One pass over the orders changed in [updated_after, updated_before]: `phase` counts the
    marketplace's separate searches (Flipkart: pre-dispatch, post-dispatch, cancelled) and
    `token` is the marketplace's own next-page token or URL inside the current one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    updated_after: datetime
    updated_before: datetime | None = None
    phase: int = Field(default=0, ge=0)
    token: str | None = None

    @classmethod
    def start(
        cls,
        updated_after: datetime | None,
        *,
        now: datetime,
        lookback: timedelta = DEFAULT_ORDER_LOOKBACK,
    ) -> PullCursor:
        return cls(updated_after=updated_after if updated_after is not None else now - lookback)

    @classmethod
    def resume(
        cls,
        cursor: str | None,
        updated_after: datetime | None,
        *,
        now: datetime,
        adapter: str | None = None,
    ) -> PullCursor:
        """The pass `cursor` belongs to, or a new one from `updated_after` when it is None."""
        if cursor is None:
            return cls.start(updated_after, now=now)
        try:
            return cls.model_validate_json(base64.urlsafe_b64decode(cursor.encode("ascii")))
        except (ValueError, binascii.Error, ValidationError):
            raise PayloadRejectedError(
                "the order cursor is not one this adapter handed out; start a new pass",
                adapter=adapter,
                operation="pull_orders",
            ) from None

    def encode(self) -> str:
        return base64.urlsafe_b64encode(self.model_dump_json(exclude_none=True).encode()).decode()

    def next_page(self, token: str) -> PullCursor:
        return self.model_copy(update={"token": token})

    def next_phase(self) -> PullCursor:
        return self.model_copy(update={"phase": self.phase + 1, "token": None})
