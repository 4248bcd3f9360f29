from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from odop_sync.catalog.schemas import ApiInput

RATE_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "currency": "USD",
    "rate": "84.12",
    "source": "RBI",
    "valid_on": "2026-12-02",
    "created_at": "2026-12-02T07:05:00Z",
    "created_by": "key:1",
}


class FxRateCreate(ApiInput):
    """A rate as its source published it: INR per 1 unit of `currency`, for `valid_on`. The same
    currency, date and source again replaces the rate (the audit log keeps the old one)."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"currency": "USD", "rate": "84.12", "source": "RBI", "valid_on": "2026-12-02"}
            ]
        }
    }

    currency: str = Field(
        min_length=3,
        max_length=3,
        pattern=r"^[A-Za-z]{3}$",
        description="ISO 4217 code with two decimal places (USD, EUR, GBP, AED …); not INR",
    )
    rate: Decimal = Field(
        gt=0, description="INR per 1 unit, up to 6 decimal places, e.g. 84.12 (US$1 = ₹84.12)"
    )
    source: str = Field(
        min_length=1, max_length=40, description="who published it: RBI, FBIL, SBI TT …"
    )
    valid_on: date | None = Field(
        default=None,
        description="the day the rate is published for; default today (UTC); not after tomorrow",
    )


class FxRateRead(BaseModel):
    model_config = {"json_schema_extra": {"examples": [RATE_EXAMPLE]}}

    id: int
    currency: str
    rate: str = Field(description="INR per 1 unit, e.g. 84.12")
    source: str
    valid_on: date
    created_at: datetime = Field(description="when this rate was entered (or re-entered)")
    created_by: str = Field(description='the API key ("key:12") or "cli"')


class FxRateSet(FxRateRead):
    """The stored rate, and what setting it did."""

    model_config = {
        "json_schema_extra": {"examples": [{**RATE_EXAMPLE, "replaced": None, "orders_priced": 2}]}
    }

    replaced: str | None = Field(
        description="the rate it replaced (same currency, date and source); null: a new one"
    )
    orders_priced: int = Field(
        description="orders in this currency that had no rate and now have one (their INR "
        "value joins the sales figures)"
    )


class InForceRead(BaseModel):
    """What today's prices in one currency use: the rate in force and whether it may be used."""

    currency: str
    rate: FxRateRead | None = Field(description="the rate in force today (UTC); null: none")
    fresh: bool = Field(description="the rate is at most fx.max_age_days old: listings go out")
    held_reason: str | None = Field(
        description="why listings in this currency wait, in plain words; null when fresh"
    )


class FxRateList(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "items": [RATE_EXAMPLE],
                    "in_force": [
                        {
                            "currency": "USD",
                            "rate": RATE_EXAMPLE,
                            "fresh": True,
                            "held_reason": None,
                        }
                    ],
                }
            ]
        }
    }

    items: list[FxRateRead] = Field(description="stored rates, newest valid_on first")
    in_force: list[InForceRead] = Field(description="per currency, the rate in force today")


class RateUsedRead(BaseModel):
    """The FX rate a price was converted at."""

    currency: str
    rate: str = Field(description="INR per 1 unit")
    source: str
    valid_on: date
