"""What a re-projection writes to one listing row: a new listing, a changed desired state and
the status that follows, a listing held back (no usable FX rate) or released, and the timeline
entries that say why. Pure: the repository executes what these return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from odop_sync.fx.rates import format_rate
from odop_sync.models import Listing, ListingStatus
from odop_sync.sync.desired import Desired, Held, Projection


def is_dirty(listing: Listing | dict[str, Any], desired: Desired) -> bool:
    get = listing.get if isinstance(listing, dict) else lambda k: getattr(listing, k)
    return (
        get("confirmed_content_hash") != desired.content_hash
        or get("confirmed_offer_hash") != desired.offer_hash
    )


def held_note(listing_id: int, code: str, at: datetime, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "listing_id": listing_id,
        "at": at,
        "source": "engine",
        "severity": "warning",
        "code": code,
        "field": "price",
        "message": row["held_reason"],
    }


def hold_change(
    have: Listing, want: Held, stamp: datetime, started: datetime, timeline: list[dict[str, Any]]
) -> dict[str, Any]:
    """A listing that cannot go out now: it waits (needs_mapping) with the reason, noted on its
    timeline when the reason is new."""
    change: dict[str, Any] = {
        "id": have.id,
        "sku": want.sku,
        "source_changed_at": stamp,
        "desired_price_paise": want.price.final_paise,
        "desired_quantity": want.stock.available_to_sell,
        "updated_at": started,
        "status": ListingStatus.NEEDS_MAPPING,
        "held_code": want.hold.code,
        "held_reason": want.hold.reason[:500],
        "next_attempt_at": None,
    }
    if have.held_code != want.hold.code or have.held_reason != change["held_reason"]:
        timeline.append(held_note(have.id, want.hold.code, started, change))
    return change


def released(listing_id: int, want: Desired, at: datetime) -> dict[str, Any]:
    rate = want.fx
    words = (
        "the listing goes out"
        if rate is None or want.price_minor is None
        else f"a {rate.currency} rate is in force: {format_rate(rate.rate)} ({rate.source}, "
        f"{rate.valid_on}); the listing goes out at {rate.currency} "
        f"{want.price_minor // 100}.{want.price_minor % 100:02d}"
    )
    return {
        "listing_id": listing_id,
        "at": at,
        "source": "engine",
        "severity": "info",
        "code": "FX_RATE_IN_FORCE",
        "field": "price",
        "message": words,
    }


def new_listing(
    account_id: int, variant_id: int, want: Projection, stamp: datetime, started: datetime
) -> dict[str, Any]:
    """The row of a variant the account has no listing for yet: pending, dirty from now (or,
    when it cannot go out now, waiting with the reason)."""
    row: dict[str, Any] = {
        "account_id": account_id,
        "variant_id": variant_id,
        "sku": want.sku,
        "source_changed_at": stamp,
        "status": ListingStatus.PENDING,
        "desired_content_hash": None,
        "desired_offer_hash": None,
        "desired_price_paise": want.price.final_paise,
        "desired_price_minor": None,
        "desired_quantity": want.stock.available_to_sell,
        "dirty_since": None,
        "failure_count": 0,
        "held_code": None,
        "held_reason": None,
        "created_at": started,
        "updated_at": started,
    }
    if isinstance(want, Held):
        row.update(
            status=ListingStatus.NEEDS_MAPPING,
            held_code=want.hold.code,
            held_reason=want.hold.reason[:500],
        )
    else:
        row.update(
            desired_content_hash=want.content_hash,
            desired_offer_hash=want.offer_hash,
            desired_price_minor=want.price_minor,
            dirty_since=started,
        )
    return row


def listing_change(
    have: Listing, want: Desired, stamp: datetime, started: datetime
) -> dict[str, Any]:
    """The update of a listing whose desired state (or SKU) changed, and the status that
    follows from it."""
    change: dict[str, Any] = {
        "id": have.id,
        "sku": want.sku,
        "source_changed_at": stamp,
        "desired_content_hash": want.content_hash,
        "desired_offer_hash": want.offer_hash,
        "desired_price_paise": want.price.final_paise,
        "desired_price_minor": want.price_minor,
        "desired_quantity": want.stock.available_to_sell,
        "updated_at": started,
    }
    dirty = is_dirty(have, want)
    change["dirty_since"] = (have.dirty_since or started) if dirty else None
    if have.held_code is not None:
        # It waited for an FX rate and can go now: as a listing whose product changed.
        open_submission = have.submission_id is not None
        change.update(
            held_code=None,
            held_reason=None,
            status=ListingStatus.SUBMITTED
            if open_submission
            else ListingStatus.PENDING
            if dirty
            else ListingStatus.LIVE,
            failure_count=0,
            failure_signature=None,
            paused_reason=None,
            next_attempt_at=None,
        )
        return change
    remapped = (
        have.status is ListingStatus.NEEDS_MAPPING
        and have.desired_content_hash != want.content_hash
    )
    changed = (
        have.desired_content_hash != want.content_hash
        or have.desired_offer_hash != want.offer_hash
    )
    if (have.status in (ListingStatus.REJECTED, ListingStatus.PAUSED) and changed) or remapped:
        # The product changed: what was refused may now pass. Try again at once. A projection
        # that finds the same listing (the overlap window, the hourly reconcile) leaves a
        # paused listing paused and a rejected one in its backoff. (A
        # listing waiting for its catalog mapping waits on until its content changes:
        # the mapping is content, a new price alone does not map it.)
        change.update(
            status=ListingStatus.PENDING,
            failure_count=0,
            failure_signature=None,
            paused_reason=None,
            next_attempt_at=None,
        )
    elif have.status is ListingStatus.LIVE and dirty:
        change["status"] = ListingStatus.PENDING
    elif have.status is ListingStatus.PENDING and not dirty:
        change["status"] = ListingStatus.LIVE
    return change
