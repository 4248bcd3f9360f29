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
