from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from odop_sync.kit.time import utcnow
from odop_sync.models.base import Base, BigId, IdMixin, JsonType, TimestampMixin


def _values(e: type[enum.Enum]) -> list[str]:
    return [str(m.value) for m in e]


class Rounding(enum.StrEnum):
    NONE = "none"  # to the paisa
    RUPEE = "rupee"  # to the nearest whole rupee
    ENDS_IN_9 = "ends_in_9"  # ₹1,249 rather than ₹1,243


class MarketplaceAccount(IdMixin, TimestampMixin, Base):
    """One seller account on one marketplace, acting for one agency."""

    __tablename__ = "marketplace_accounts"
    __table_args__ = (UniqueConstraint("agency_id", "name"),)

    agency_id: Mapped[int] = mapped_column(BigId, ForeignKey("agencies.id"), index=True)
    adapter: Mapped[str] = mapped_column(String(40))  # the adapter's slug
    name: Mapped[str] = mapped_column(String(120))
    # The adapter's config model, secrets included, encrypted as one Fernet token.
    credentials_encrypted: Mapped[str] = mapped_column(Text)
    markup_percent: Mapped[Any] = mapped_column(Numeric(6, 2), default=0)
    markup_fixed_paise: Mapped[int] = mapped_column(default=0)
    rounding: Mapped[Rounding] = mapped_column(
        Enum(Rounding, native_enum=False, length=16, values_callable=_values), default=Rounding.NONE
    )
    floor_paise: Mapped[int] = mapped_column(default=0)
    stock_buffer: Mapped[int] = mapped_column(default=0)
    enabled: Mapped[bool] = mapped_column(default=True)
    last_check_ok: Mapped[bool | None]
    last_check_at: Mapped[datetime | None]
    last_check_detail: Mapped[str | None] = mapped_column(String(500))
    # The engine's projection watermark: variants changed after this are re-projected.
    projected_at: Mapped[datetime | None]
    # Why the account cannot work now (the marketplace refused its credentials, its stored
    # configuration is unusable), since when, how many attempts in a row failed, and when the
    # next one may go: neither the sync engine nor the order pull calls the marketplace before
    # that (None with a problem: not until the account changes). Cleared by a successful call
    # and by any change to the account.
    problem: Mapped[str | None] = mapped_column(String(500))
    problem_since: Mapped[datetime | None]
    problem_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    problem_retry_at: Mapped[datetime | None]
    # The currency the marketplace prices in (the adapter's `currency` when the account was
    # created): prices are converted from INR at the FX rate in force for any other.
    currency: Mapped[str] = mapped_column(String(3), default="INR", server_default="INR")
    # The FX quote the last re-projection of the whole catalog used (rate, date, and whether it
    # could be used): a pass that finds another in force re-projects everything.
    projected_fx: Mapped[str | None] = mapped_column(String(200))


class ListingStatus(enum.StrEnum):
    PENDING = "pending"  # desired state not yet confirmed by the marketplace
    SUBMITTED = "submitted"  # in an async feed, waiting for its report
    LIVE = "live"  # confirmed == desired
    REJECTED = "rejected"  # the marketplace refused it; see the issue timeline
    NEEDS_MAPPING = "needs_mapping"  # e.g. Flipkart without an FSN: waits for the user
    PAUSED = "paused"  # failed the same way too often; paused_reason says why


class Listing(IdMixin, TimestampMixin, Base):
    """A variant on an account: desired state vs what the marketplace last confirmed."""

    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("account_id", "variant_id"),
        Index("ix_listings_account_id_status", "account_id", "status"),
    )

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("marketplace_accounts.id"))
    variant_id: Mapped[int] = mapped_column(BigId, ForeignKey("variants.id"), index=True)
    sku: Mapped[str] = mapped_column(String(40))
    status: Mapped[ListingStatus] = mapped_column(
        Enum(ListingStatus, native_enum=False, length=16, values_callable=_values),
        default=ListingStatus.PENDING,
    )
    desired_content_hash: Mapped[str | None] = mapped_column(String(64))
    desired_offer_hash: Mapped[str | None] = mapped_column(String(64))
    confirmed_content_hash: Mapped[str | None] = mapped_column(String(64))
    confirmed_offer_hash: Mapped[str | None] = mapped_column(String(64))
    desired_price_paise: Mapped[int | None]
    desired_quantity: Mapped[int | None]
    remote_id: Mapped[str | None] = mapped_column(String(120))
    submission_id: Mapped[str | None] = mapped_column(String(120), index=True)
    # What the open submission carries: confirmed when the marketplace's report accepts it.
    pending_content_hash: Mapped[str | None] = mapped_column(String(64))
    pending_offer_hash: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    # Since when desired != confirmed: the sync lag an operator pages on.
    dirty_since: Mapped[datetime | None] = mapped_column(index=True)
    failure_count: Mapped[int] = mapped_column(default=0)
    failure_signature: Mapped[str | None] = mapped_column(String(64))
    paused_reason: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None]
    last_pushed_at: Mapped[datetime | None]
    last_confirmed_at: Mapped[datetime | None]
    # The newest updated_at of the variant, product and producer as last projected: a scan
    # re-projects only the variants changed after it (the watermark's overlap alone re-projected
    # every variant changed in the seconds before the last projection, a whole batch's worth).
    source_changed_at: Mapped[datetime | None]
    # Accounts in another currency: the desired price converted (minor units of the account's
    # currency, e.g. US cents), and the FX rate of the price last pushed.
    desired_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    fx_rate: Mapped[Decimal | None] = mapped_column(Numeric(14, 6))
    fx_source: Mapped[str | None] = mapped_column(String(40))
    fx_valid_on: Mapped[date | None] = mapped_column(Date)
    # Why the engine holds the listing back before any push (status needs_mapping), e.g.
    # FX_RATE_MISSING, FX_RATE_STALE; cleared by the re-projection that finds it can go.
    held_code: Mapped[str | None] = mapped_column(String(64))
    held_reason: Mapped[str | None] = mapped_column(String(500))


class ListingIssue(IdMixin, Base):
    """The listing's timeline: immediate and asynchronous marketplace issues in plain words."""

    __tablename__ = "listing_issues"
    __table_args__ = (Index("ix_listing_issues_listing_id_id", "listing_id", "id"),)

    listing_id: Mapped[int] = mapped_column(BigId, ForeignKey("listings.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16))  # push | feed | reconcile | engine
    severity: Mapped[str] = mapped_column(String(16))  # error | warning | info
    code: Mapped[str | None] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(120))
    message: Mapped[str] = mapped_column(String(2000))


class SyncAttempt(IdMixin, Base):
    """Every call the engine made to a marketplace, for the operator and for debugging."""

    __tablename__ = "sync_attempts"
    __table_args__ = (Index("ix_sync_attempts_account_id_id", "account_id", "id"),)

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("marketplace_accounts.id"))
    operation: Mapped[str] = mapped_column(String(40))
    items: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str] = mapped_column(String(24))  # ok | partial | retryable | permanent
    error: Mapped[str | None] = mapped_column(String(2000))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int] = mapped_column(default=0)


class SyncRun(IdMixin, TimestampMixin, Base):
    """A requested "sync now" for one account or all of an agency's."""

    __tablename__ = "sync_runs"

    agency_id: Mapped[int] = mapped_column(BigId, ForeignKey("agencies.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("marketplace_accounts.id"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    requested_by: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    finished_at: Mapped[datetime | None]


class AccountLease(Base):
    """At most one worker syncs an account at a time: it holds this row's lease."""

    __tablename__ = "account_leases"

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("marketplace_accounts.id"), primary_key=True
    )
    owner: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime | None]


class ScheduleMark(Base):
    """The last slot each periodic job fired for: one process wins each slot."""

    __tablename__ = "schedule_marks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # time ÷ interval: past 2^31 for intervals under a second (an int32 overflowed on PostgreSQL)
    slot: Mapped[int] = mapped_column(BigInteger, default=0)
    owner: Mapped[str | None] = mapped_column(String(100))
    fired_at: Mapped[datetime | None]
