"""Reading listings back: filters, tenant scope, the issue timeline and live derivations."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.kit.money import paise_to_rupees
from odop_sync.listings.projection import PricingRule, available_to_sell, project_price
from odop_sync.listings.schemas import (
    IssueRead,
    ListingDetail,
    ListingRead,
    PriceDerivationRead,
    PricingRuleRead,
    StockDerivationRead,
)
from odop_sync.models import (
    Listing,
    ListingIssue,
    ListingStatus,
    MarketplaceAccount,
    Rounding,
    Variant,
)

# No orders are ingested yet, so nothing is reserved; the orders domain will supply this.
RESERVED_BY_OPEN_ORDERS = 0


@dataclass(frozen=True, slots=True)
class ListingRow:
    listing: Listing
    account_name: str
    adapter: str


def is_dirty() -> ColumnElement[bool]:
    """Desired ≠ confirmed, for content or offer (NULL-safe, as the engine selects them)."""
    return or_(
        Listing.desired_content_hash.is_distinct_from(Listing.confirmed_content_hash),
        Listing.desired_offer_hash.is_distinct_from(Listing.confirmed_offer_hash),
    )


async def list_listings(
    session: AsyncSession,
    *,
    agency_scope: int | None,
    after: int,
    limit: int,
    account_id: int | None = None,
    status: ListingStatus | None = None,
    sku: str | None = None,
    dirty: bool | None = None,
) -> list[ListingRow]:
    query = (
        select(Listing, MarketplaceAccount.name, MarketplaceAccount.adapter)
        .join(MarketplaceAccount, MarketplaceAccount.id == Listing.account_id)
        .where(Listing.id > after)
        .order_by(Listing.id)
        .limit(limit)
    )
    if agency_scope is not None:
        query = query.where(MarketplaceAccount.agency_id == agency_scope)
    if account_id is not None:
        query = query.where(Listing.account_id == account_id)
    if status is not None:
        query = query.where(Listing.status == status)
    if sku is not None:
        query = query.where(Listing.sku == sku)
    if dirty is not None:
        query = query.where(is_dirty() if dirty else ~is_dirty())
    rows = await session.execute(query)
    return [ListingRow(listing, name, adapter) for listing, name, adapter in rows]


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


def _rupees(paise: int) -> str:
    return str(paise_to_rupees(paise))


def listing_read(row: ListingRow, latest: ListingIssue | None) -> ListingRead:
    listing = row.listing
    return ListingRead(
        id=listing.id,
        account_id=listing.account_id,
        account_name=row.account_name,
        adapter=row.adapter,
        sku=listing.sku,
        variant_id=listing.variant_id,
        status=listing.status,
        remote_id=listing.remote_id,
        desired_price=(
            None if listing.desired_price_paise is None else _rupees(listing.desired_price_paise)
        ),
        desired_quantity=listing.desired_quantity,
        dirty=(
            listing.desired_content_hash != listing.confirmed_content_hash
            or listing.desired_offer_hash != listing.confirmed_offer_hash
        ),
        dirty_since=listing.dirty_since,
        submission_id=listing.submission_id,
        failure_count=listing.failure_count,
        paused_reason=listing.paused_reason,
        next_attempt_at=listing.next_attempt_at,
        last_pushed_at=listing.last_pushed_at,
        last_confirmed_at=listing.last_confirmed_at,
        latest_issue=None if latest is None else IssueRead.model_validate(latest),
        updated_at=listing.updated_at,
    )


def pricing_rule(account: MarketplaceAccount) -> PricingRule:
    return PricingRule(
        markup_percent=Decimal(account.markup_percent),
        markup_fixed_paise=account.markup_fixed_paise,
        rounding=Rounding(account.rounding),
        floor_paise=account.floor_paise,
    )


def price_derivation(variant: Variant, account: MarketplaceAccount) -> PriceDerivationRead:
    rule = pricing_rule(account)
    derived = project_price(variant.price_paise, variant.mrp_paise, rule)
    clamped = derived.clamped_by
    return PriceDerivationRead(
        canonical_price=_rupees(derived.base_paise),
        mrp=_rupees(variant.mrp_paise),
        rule=PricingRuleRead(
            markup_percent=rule.markup_percent,
            markup_fixed=_rupees(rule.markup_fixed_paise),
            rounding=rule.rounding,
            floor=_rupees(rule.floor_paise),
        ),
        marked_up=_rupees(derived.marked_up_paise),
        rounded=_rupees(derived.rounded_paise),
        final=_rupees(derived.final_paise),
        clamped_by="floor" if clamped == "floor" else "mrp" if clamped == "mrp" else None,
    )


def stock_derivation(variant: Variant, account: MarketplaceAccount) -> StockDerivationRead:
    derived = available_to_sell(
        variant.stock_on_hand, RESERVED_BY_OPEN_ORDERS, account.stock_buffer
    )
    return StockDerivationRead(
        on_hand=derived.on_hand,
        reserved_by_open_orders=derived.reserved,
        buffer=derived.buffer,
        available_to_sell=derived.available_to_sell,
    )


async def listing_detail(
    session: AsyncSession, listing: Listing, account: MarketplaceAccount, variant: Variant
) -> ListingDetail:
    issues = await issue_timeline(session, listing.id)
    summary = listing_read(
        ListingRow(listing, account.name, account.adapter), issues[0] if issues else None
    )
    return ListingDetail(
        **dict(summary),
        issues=[IssueRead.model_validate(issue) for issue in issues],
        stock=stock_derivation(variant, account),
        price=price_derivation(variant, account),
    )
