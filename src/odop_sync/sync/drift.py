"""Reconcile's comparison: the account's confirmed listings page by page, how the marketplace's
copy of one differs from what it confirmed (in plain words), and marking the drifted ones so
the next push repairs them. Every function runs inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.adapter_sdk import Money, RemoteListingState
from odop_sync.kit.time import utcnow
from odop_sync.models import Listing, ListingIssue, ListingStatus


@dataclass(frozen=True, slots=True)
class LiveListing:
    id: int
    sku: str
    price_paise: int | None
    quantity: int | None


@dataclass(frozen=True, slots=True)
class Drift:
    listing_id: int
    whole: bool  # the listing itself is gone: content and offer go again
    message: str


async def live_listings(
    session: AsyncSession, account_id: int, *, after: int, limit: int
) -> list[LiveListing]:
    """Confirmed listings of the account (the ones a marketplace-side change can drift), by id."""
    rows = await session.execute(
        select(
            Listing.id,
            Listing.sku,
            # In the account's currency: converted for an account that does not sell in INR.
            func.coalesce(Listing.desired_price_minor, Listing.desired_price_paise),
            Listing.desired_quantity,
        )
        .where(
            Listing.account_id == account_id,
            Listing.status == ListingStatus.LIVE,
            Listing.id > after,
        )
        .order_by(Listing.id)
        .limit(limit)
    )
    return [LiveListing(*row) for row in rows]


def drift_of(
    listing: LiveListing, remote: RemoteListingState, marketplace: str, price_step: int = 1
) -> Drift | None:
    """How the marketplace's copy differs from what it confirmed, in plain words, or None.
    `price_step`: the marketplace keeps prices in steps of this many paise (rounded down)."""
    sku = listing.sku
    sent = None if listing.price_paise is None else listing.price_paise // price_step * price_step
    if not remote.exists:
        return Drift(
            listing.id,
            True,
            f"SKU {sku} is no longer on {marketplace} (removed there); it is being listed again",
        )
    found: list[str] = []
    if remote.price is not None and sent is not None and remote.price.amount != sent:
        currency = remote.price.currency
        found.append(
            f"price {remote.price.to_decimal()} instead of "
            f"{Money(amount=sent, currency=currency).to_decimal()}"
            + ("" if currency == "INR" else f" {currency}")
        )
    # Less stock there than sent is what a sale does before its order is pulled (the marketplace
    # counts it down itself): pushing the old number back would sell units twice, so only more
    # than sent is drift. The order pull brings the lower number in through the ledger.
    if (
        remote.quantity is not None
        and listing.quantity is not None
        and remote.quantity > listing.quantity
    ):
        found.append(f"quantity {remote.quantity} instead of {listing.quantity}")
    if not found:
        return None
    return Drift(
        listing.id,
        False,
        f"SKU {sku} on {marketplace} showed {' and '.join(found)} (changed outside odop-sync); "
        "the catalog's values are being sent again",
    )


async def mark_drifted(session: AsyncSession, drifts: Sequence[Drift]) -> None:
    """Forget the confirmation of drifted listings so the next push repairs them, and say why on
    each listing's timeline."""
    if not drifts:
        return
    now = utcnow()
    base = {
        "status": ListingStatus.PENDING,
        "dirty_since": now,
        "next_attempt_at": None,
        "failure_count": 0,
        "failure_signature": None,
        "confirmed_offer_hash": None,
    }
    # Bulk UPDATE by primary key: one statement per column set.
    whole = [
        {"id": d.listing_id, **base, "confirmed_content_hash": None} for d in drifts if d.whole
    ]
    offers = [{"id": d.listing_id, **base} for d in drifts if not d.whole]
    for rows in (whole, offers):
        if rows:
            await session.execute(update(Listing), rows)
    await session.execute(
        insert(ListingIssue),
        [
            {
                "listing_id": d.listing_id,
                "at": now,
                "source": "reconcile",
                "severity": "warning",
                "code": "drift",
                "field": None,
                "message": d.message[:2000],
            }
            for d in drifts
        ],
    )
