"""Every query of the listings slice: filtered pages, one listing, the issue timeline."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.models import Listing, ListingIssue, ListingStatus, MarketplaceAccount, Variant

A = MarketplaceAccount


@dataclass(frozen=True, slots=True)
class ListingRow:
    listing: Listing
    account_name: str
    adapter: str
    currency: str = "INR"  # the account's


@dataclass(frozen=True, slots=True)
class ListingFilter:
    """What a listings page is narrowed to (None: no narrowing)."""

    agency_scope: int | None = None
    account_id: int | None = None
    status: ListingStatus | None = None
    sku: str | None = None
    dirty: bool | None = None


def is_dirty() -> ColumnElement[bool]:
    """Desired ≠ confirmed, for content or offer (NULL-safe, as the engine selects them)."""
    return or_(
        Listing.desired_content_hash.is_distinct_from(Listing.confirmed_content_hash),
        Listing.desired_offer_hash.is_distinct_from(Listing.confirmed_offer_hash),
    )


async def list_listings(
    session: AsyncSession, where: ListingFilter, *, after: int, limit: int
) -> list[ListingRow]:
    query = (
        select(
            Listing,
            MarketplaceAccount.name,
            MarketplaceAccount.adapter,
            MarketplaceAccount.currency,
        )
        .join(MarketplaceAccount, MarketplaceAccount.id == Listing.account_id)
        .where(Listing.id > after)
        .order_by(Listing.id)
        .limit(limit)
    )
    if where.agency_scope is not None:
        query = query.where(MarketplaceAccount.agency_id == where.agency_scope)
    if where.account_id is not None:
        query = query.where(Listing.account_id == where.account_id)
    if where.status is not None:
        query = query.where(Listing.status == where.status)
    if where.sku is not None:
        query = query.where(Listing.sku == where.sku)
    if where.dirty is not None:
        query = query.where(is_dirty() if where.dirty else ~is_dirty())
    rows = await session.execute(query)
    return [ListingRow(*row) for row in rows]


async def get_listing(
    session: AsyncSession, listing_id: int, agency_scope: int | None
) -> tuple[Listing, MarketplaceAccount, Variant] | None:
    query = (
        select(Listing, MarketplaceAccount, Variant)
        .join(MarketplaceAccount, MarketplaceAccount.id == Listing.account_id)
        .join(Variant, Variant.id == Listing.variant_id)
        .where(Listing.id == listing_id)
    )
    if agency_scope is not None:
        query = query.where(MarketplaceAccount.agency_id == agency_scope)
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1], row[2])


async def latest_issues(session: AsyncSession, listing_ids: list[int]) -> dict[int, ListingIssue]:
    """The newest issue of each listing, in the timeline's order (by time, then by id)."""
    if not listing_ids:
        return {}
    ranked = (
        select(
            ListingIssue.id,
            func.row_number()
            .over(
                partition_by=ListingIssue.listing_id,
                order_by=(ListingIssue.at.desc(), ListingIssue.id.desc()),
            )
            .label("rank"),
        )
        .where(ListingIssue.listing_id.in_(listing_ids))
        .subquery()
    )
    issues = await session.scalars(
        select(ListingIssue).join(ranked, ListingIssue.id == ranked.c.id).where(ranked.c.rank == 1)
    )
    return {issue.listing_id: issue for issue in issues}


async def issue_timeline(session: AsyncSession, listing_id: int) -> list[ListingIssue]:
    query = (
        select(ListingIssue)
        .where(ListingIssue.listing_id == listing_id)
        .order_by(ListingIssue.at.desc(), ListingIssue.id.desc())
    )
    return list(await session.scalars(query))
