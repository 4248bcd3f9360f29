"""What the agency console asks of listings: counts by status per account (one grouped query)
and "try this paused listing again now"."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.kit.problems import Conflict, NotFound
from odop_sync.kit.time import utcnow
from odop_sync.listings.repository import is_dirty
from odop_sync.models import Listing, ListingIssue, ListingStatus, MarketplaceAccount

A = MarketplaceAccount
RETRYABLE = (ListingStatus.PAUSED, ListingStatus.REJECTED)


@dataclass
class AccountCounts:
    account_id: int
    account_name: str
    adapter: str
    enabled: bool
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys((s.value for s in ListingStatus), 0)
    )
    dirty: int = 0


async def counts_by_account(session: AsyncSession, agency_scope: int | None) -> list[AccountCounts]:
    """Every account in scope (those without listings too) with its listings counted by status
    and how many of them are dirty: one query grouped by account and status."""
    query = (
        select(
            A.id,
            A.name,
            A.adapter,
            A.enabled,
            Listing.status,
            func.count(Listing.id),
            func.coalesce(func.sum(case((is_dirty(), 1), else_=0)), 0),
        )
        .outerjoin(Listing, Listing.account_id == A.id)
        .group_by(A.id, A.name, A.adapter, A.enabled, Listing.status)
        .order_by(A.id)
    )
    if agency_scope is not None:
        query = query.where(A.agency_id == agency_scope)
    out: dict[int, AccountCounts] = {}
    for account_id, name, adapter, enabled, status, n, dirty in await session.execute(query):
        entry = out.setdefault(account_id, AccountCounts(account_id, name, adapter, enabled))
        if status is not None:
            entry.counts[str(status)] = int(n)
            entry.dirty += int(dirty)
    return list(out.values())


async def retry_listing(
    session: AsyncSession, listing_id: int, agency_scope: int | None, actor: str
) -> tuple[int, int]:
    """Give a paused or rejected listing another chance now: pending, its failures forgotten, a
    line on its timeline saying who did it. Returns (agency id, variant id) for the wake-up;
    the caller commits."""
    query = (
        select(Listing.status, Listing.variant_id, A.agency_id)
        .join(A, A.id == Listing.account_id)
        .where(Listing.id == listing_id)
    )
    if agency_scope is not None:
        query = query.where(A.agency_id == agency_scope)
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound(f"no listing {listing_id}")
    status, variant_id, agency_id = row
    now = utcnow()
    # Conditional, so a push that changed the listing meanwhile is not overwritten.
    changed = await session.execute(
        update(Listing)
        .where(Listing.id == listing_id, Listing.status.in_(RETRYABLE))
        .values(
            status=ListingStatus.PENDING,
            failure_count=0,
            failure_signature=None,
            paused_reason=None,
            next_attempt_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        raise Conflict(
            f"listing {listing_id} is {status}; only a paused or rejected listing can be "
            "retried (a pending or submitted one is on its way already, a live one is done, "
            "one that needs mapping waits for its catalog mapping)"
        )
    session.add(
        ListingIssue(
            listing_id=listing_id,
            at=now,
            source="engine",
            severity="info",
            code="RETRIED",
            message=f"retried by {actor}; the next push sends it again",
        )
    )
    await session.flush()
    return int(agency_id), int(variant_id)
