from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from odop_sync.fx.schemas import RateUsedRead
from odop_sync.models import ListingStatus, Rounding

ISSUE_EXAMPLE: dict[str, Any] = {
    "id": 41,
    "at": "2025-11-20T09:14:03Z",
    "source": "feed",
    "severity": "error",
    "code": "90220",
    "field": "bullet_point",
    "message": "field bullet_point of SKU BHD-CARPET-RED-4X6: add at least one bullet point",
}

LISTING_EXAMPLE: dict[str, Any] = {
    "id": 7,
    "account_id": 1,
    "account_name": "UP ODOP on Amazon.in",
    "adapter": "amazon",
    "sku": "BHD-CARPET-RED-4X6",
    "variant_id": 12,
    "status": "rejected",
    "remote_id": None,
    "desired_price": "16799.00",
    "desired_quantity": 3,
    "dirty": True,
    "dirty_since": "2025-11-20T09:10:00Z",
    "submission_id": None,
    "failure_count": 1,
    "paused_reason": None,
    "next_attempt_at": "2025-11-20T09:44:03Z",
    "last_pushed_at": "2025-11-20T09:14:01Z",
    "last_confirmed_at": None,
    "latest_issue": ISSUE_EXAMPLE,
    "updated_at": "2025-11-20T09:14:03Z",
    "currency": "INR",
    "desired_price_converted": None,
    "held_reason": None,
    "last_pushed_fx": None,
}


class IssueRead(BaseModel):
    """One entry of a listing's timeline: what the marketplace (or the engine) said."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    source: str = Field(description="push | feed | reconcile | engine")
    severity: str = Field(description="error | warning | info")
    code: str | None = Field(description="the marketplace's own code, when it gave one")
    field: str | None
    message: str


class ListingRead(BaseModel):
    """A variant on one marketplace account: what should be there and what was confirmed."""

    model_config = ConfigDict(json_schema_extra={"examples": [LISTING_EXAMPLE]})

    id: int
    account_id: int
    account_name: str
    adapter: str = Field(description="the marketplace adapter's slug, e.g. amazon")
    sku: str
    variant_id: int
    status: ListingStatus
    remote_id: str | None = Field(description="the marketplace's id (ASIN, FSN, item id)")
    desired_price: str | None = Field(description="INR, two decimals, as last projected")
    desired_quantity: int | None = Field(description="available to sell, as last projected")
    dirty: bool = Field(
        description="the desired content or offer differs from what the marketplace confirmed"
    )
    dirty_since: datetime | None
    submission_id: str | None = Field(description="the open asynchronous feed, if any")
    failure_count: int
    paused_reason: str | None
    next_attempt_at: datetime | None = Field(description="backed off until then after a failure")
    last_pushed_at: datetime | None
    last_confirmed_at: datetime | None
    latest_issue: IssueRead | None
    updated_at: datetime
    currency: str = Field(description="the currency the account's marketplace prices in")
    desired_price_converted: str | None = Field(
        description="accounts not in INR: desired_price converted at the FX rate in force, in "
        "`currency`, as last projected"
    )
    held_reason: str | None = Field(
        description="why the engine holds the listing back (status needs_mapping), e.g. no "
        "FX rate in force; null when it is not held"
    )
    last_pushed_fx: RateUsedRead | None = Field(
        description="the FX rate of the price last pushed (accounts not in INR)"
    )


class StockDerivationRead(BaseModel):
    """available_to_sell = on_hand − reserved_by_open_orders − buffer, floored at 0."""

    on_hand: int = Field(description="the variant's stock on hand")
    reserved_by_open_orders: int = Field(
        description="units in orders not yet shipped or cancelled (0 until orders are pulled)"
    )
    buffer: int = Field(description="the account's stock buffer")
    available_to_sell: int


class PricingRuleRead(BaseModel):
    markup_percent: Decimal
    markup_fixed: str = Field(description="INR, two decimals")
    rounding: Rounding
    floor: str = Field(description="INR, two decimals")


class PriceDerivationRead(BaseModel):
    """Markup, then rounding, then the floor, then never above MRP."""

    canonical_price: str = Field(description="the variant's price, INR")
    mrp: str = Field(description="the variant's MRP, INR")
    rule: PricingRuleRead = Field(description="the account's pricing rule")
    marked_up: str = Field(description="after markup_percent and markup_fixed")
    rounded: str = Field(description="after the account's rounding")
    final: str = Field(description="the price the marketplace gets")
    clamped_by: Literal["floor", "mrp"] | None = Field(
        description="floor: raised to the account's floor; mrp: lowered to the MRP"
    )
    conversion: ConversionRead | None = Field(
        default=None,
        description="accounts not in INR: `final` converted at the FX rate in force today",
    )


class ConversionRead(BaseModel):
    """The final INR price converted into the account's currency: paise ÷ rate, half up to a
    whole cent."""

    currency: str
    inr: str = Field(description="the final price in INR, as converted")
    rate: str | None = Field(description="INR per 1 unit; null when no rate is in force")
    source: str | None
    valid_on: date | None
    amount: str | None = Field(
        description="the price the marketplace gets, in `currency`; null when held"
    )
    held_reason: str | None = Field(
        description="why no price goes out now (no rate in force, or older than "
        "fx.max_age_days); null when it can"
    )


class ListingDetail(ListingRead):
    """A listing with its issue timeline and how its price and quantity are derived now."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **LISTING_EXAMPLE,
                    "issues": [ISSUE_EXAMPLE],
                    "stock": {
                        "on_hand": 4,
                        "reserved_by_open_orders": 0,
                        "buffer": 1,
                        "available_to_sell": 3,
                    },
                    "price": {
                        "canonical_price": "15999.00",
                        "mrp": "18500.00",
                        "rule": {
                            "markup_percent": "5",
                            "markup_fixed": "0.00",
                            "rounding": "ends_in_9",
                            "floor": "0.00",
                        },
                        "marked_up": "16798.95",
                        "rounded": "16799.00",
                        "final": "16799.00",
                        "clamped_by": None,
                        "conversion": None,
                    },
                }
            ]
        }
    )

    issues: list[IssueRead] = Field(description="the timeline, newest first")
    stock: StockDerivationRead = Field(description="computed now from the variant and account")
    price: PriceDerivationRead = Field(description="computed now from the variant and account")


class StatusCounts(BaseModel):
    """Listings of one account by status; every status is present, 0 when none."""

    pending: int
    submitted: int
    live: int
    rejected: int
    needs_mapping: int
    paused: int


class AccountListingCounts(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account_id": 1,
                    "account_name": "UP ODOP on Amazon.in",
                    "adapter": "amazon",
                    "enabled": True,
                    "counts": {
                        "pending": 2,
                        "submitted": 0,
                        "live": 118,
                        "rejected": 1,
                        "needs_mapping": 0,
                        "paused": 1,
                    },
                    "dirty": 4,
                }
            ]
        }
    )

    account_id: int
    account_name: str
    adapter: str
    enabled: bool
    counts: StatusCounts
    dirty: int = Field(description="listings whose desired state differs from the confirmed one")
