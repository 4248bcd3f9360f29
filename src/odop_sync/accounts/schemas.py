from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from odop_sync.catalog.schemas import ApiInput
from odop_sync.models import Rounding


class AccountCreate(ApiInput):
    """A seller account on one marketplace. `credentials` are checked by the adapter's config
    model, stored encrypted, and never shown again."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "adapter": "amazon",
                    "name": "UP ODOP on Amazon.in",
                    "credentials": {
                        "seller_id": "A1B2C3D4E5F6G7",
                        "lwa_client_id": "amzn1.application-oa2-client.xxxx",
                        "lwa_client_secret": "…",
                        "refresh_token": "Atzr|…",
                    },
                    "markup_percent": "8",
                    "rounding": "ends_in_9",
                    "stock_buffer": 1,
                }
            ]
        }
    }

    adapter: str = Field(min_length=1, max_length=40, description="adapter slug, e.g. amazon")
    name: str = Field(min_length=1, max_length=120)
    credentials: dict[str, Any]
    markup_percent: Decimal = Field(default=Decimal(0), ge=-50, le=500, decimal_places=2)
    markup_fixed: Decimal = Field(default=Decimal(0), ge=0, le=1_000_000, decimal_places=2)
    rounding: Rounding = Rounding.NONE
    floor: Decimal = Field(default=Decimal(0), ge=0, le=100_000_000, decimal_places=2)
    stock_buffer: int = Field(default=0, ge=0, le=100_000)
    enabled: bool = True


class AccountUpdate(ApiInput):
    """Change an account: only the fields given change (null or absent: unchanged).
    `credentials` are merged over the stored ones (give only what changed, e.g. a new
    `refresh_token`) and checked by the adapter again. Any change ends a problem the account
    is waiting out, and the account syncs again at once."""

    model_config = {
        "json_schema_extra": {"examples": [{"credentials": {"refresh_token": "Atzr|…"}}]}
    }

    name: str | None = Field(default=None, min_length=1, max_length=120)
    credentials: dict[str, Any] | None = None
    markup_percent: Decimal | None = Field(default=None, ge=-50, le=500, decimal_places=2)
    markup_fixed: Decimal | None = Field(default=None, ge=0, le=1_000_000, decimal_places=2)
    rounding: Rounding | None = None
    floor: Decimal | None = Field(default=None, ge=0, le=100_000_000, decimal_places=2)
    stock_buffer: int | None = Field(default=None, ge=0, le=100_000)
    enabled: bool | None = None


class AccountProblem(BaseModel):
    """Why the account cannot work now. Neither sync nor the order pull calls the marketplace
    for it before `next_attempt_at`; each failure in a row doubles the wait."""

    reason: str = Field(description="in plain words, with what to do about it")
    since: datetime = Field(description="the first failure of this run of failures")
    failures: int = Field(description="consecutive failed attempts")
    next_attempt_at: datetime | None = Field(
        description="the earliest next call to the marketplace; null: not until the account changes"
    )


class AccountRead(BaseModel):
    id: int
    agency_id: int
    adapter: str
    name: str
    currency: str = Field(
        description="the currency the marketplace prices in (ISO 4217), set by its adapter; "
        "for any but INR, prices are converted at the FX rate in force (GET /v1/fx/rates)"
    )
    settings: dict[str, Any] = Field(description="non-secret configuration")
    secrets_set: list[str] = Field(description="secret fields that are stored (never shown)")
    markup_percent: Decimal
    markup_fixed: str
    rounding: Rounding
    floor: str
    stock_buffer: int
    enabled: bool
    last_check_ok: bool | None
    last_check_at: datetime | None
    last_check_detail: str | None
    problem: AccountProblem | None = Field(
        description="set while the account waits out a problem (credentials refused, unusable "
        "configuration); null when it works. PATCH the account to fix it and end the wait."
    )
    created_at: datetime


class CheckResult(BaseModel):
    ok: bool
    detail: str
    checked_at: datetime
