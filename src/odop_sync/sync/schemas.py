from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from odop_sync.catalog.schemas import ApiInput


class SyncRunCreate(ApiInput):
    """Sync now: one account of the agency, or (null) every enabled one."""

    model_config = {"json_schema_extra": {"examples": [{"account_id": 1}, {"account_id": None}]}}

    account_id: int | None = Field(default=None, ge=1, le=2**62)


class SyncRunRead(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": 42,
                    "agency_id": 1,
                    "account_id": 3,
                    "status": "queued",
                    "requested_by": "key:7",
                    "summary": None,
                    "created_at": "2025-11-20T09:14:03Z",
                    "finished_at": None,
                }
            ]
        }
    }

    id: int
    agency_id: int
    account_id: int | None
    status: str = Field(description="queued | running | done | failed")
    requested_by: str | None
    summary: dict[str, Any] | None = Field(
        description="per account: listing counts by status and the outcome of the sync"
    )
    created_at: datetime
    finished_at: datetime | None


class AccountSyncStatus(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "account_id": 3,
                    "account_name": "UP ODOP on Amazon.in",
                    "adapter": "amazon",
                    "enabled": True,
                    "oldest_dirty_since": "2025-11-20T09:10:00Z",
                    "lag_seconds": 42.5,
                    "last_pushed_at": "2025-11-20T09:10:30Z",
                    "last_order_pull_at": "2025-11-20T09:10:12Z",
                    "open_feeds": 1,
                    "last_run": None,
                }
            ]
        }
    }

    account_id: int
    account_name: str
    adapter: str
    enabled: bool
    oldest_dirty_since: datetime | None = Field(
        description="since when the oldest dirty listing (desired differs from confirmed) has "
        "waited; paused and unmapped listings are left out, as in odop_sync_lag_seconds"
    )
    lag_seconds: float | None = Field(
        description="the sync lag: the age of that listing now; null when none is dirty"
    )
    last_pushed_at: datetime | None = Field(description="the newest push of any listing")
    last_order_pull_at: datetime | None = Field(
        description="when the last order pull of the account completed; null before the first"
    )
    open_feeds: int = Field(description="submissions (feeds) sent and not yet reported on")
    last_run: SyncRunRead | None = Field(
        description="the newest sync run of this account or of all the agency's accounts"
    )
