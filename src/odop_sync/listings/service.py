"""Reading listings back: filters, tenant scope, the issue timeline and live derivations."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.catalog.schemas import Page
from odop_sync.fx import repository as fx_repo
from odop_sync.fx.rates import INR, FxHold, FxQuote, format_rate, to_minor
from odop_sync.fx.schemas import RateUsedRead
from odop_sync.kit.money import paise_to_rupees
from odop_sync.kit.problems import NotFound
from odop_sync.kit.time import utcnow
from odop_sync.listings import repository as repo
from odop_sync.listings.projection import PricingRule, available_to_sell, project_price
from odop_sync.listings.repository import ListingRow
from odop_sync.listings.schemas import (
    ConversionRead,
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
    MarketplaceAccount,
    Rounding,
    Variant,
)

# No orders are ingested yet, so nothing is reserved; the orders domain will supply this.
RESERVED_BY_OPEN_ORDERS = 0


def _rupees(paise: int) -> str:
    return str(paise_to_rupees(paise))


def _major(minor: int | None) -> str | None:
    """Minor units (cents) of a two-decimal currency as major units: 2199 → 21.99."""
    return None if minor is None else str(paise_to_rupees(minor))


def _last_pushed_fx(listing: Listing, currency: str) -> RateUsedRead | None:
    if listing.fx_rate is None or listing.fx_source is None or listing.fx_valid_on is None:
        return None
    return RateUsedRead(
        currency=currency,
        rate=format_rate(Decimal(listing.fx_rate)),
        source=listing.fx_source,
        valid_on=listing.fx_valid_on,
    )


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
        currency=row.currency,
        desired_price_converted=_major(listing.desired_price_minor),
        held_reason=listing.held_reason,
        last_pushed_fx=_last_pushed_fx(listing, row.currency),
    )


def pricing_rule(account: MarketplaceAccount) -> PricingRule:
    return PricingRule(
        markup_percent=Decimal(account.markup_percent),
        markup_fixed_paise=account.markup_fixed_paise,
        rounding=Rounding(account.rounding),
        floor_paise=account.floor_paise,
    )


def conversion(final_paise: int, quote: FxQuote) -> ConversionRead:
    """The final INR price in the quote's currency, or why there is none now."""
    verdict = quote.verdict()
    rate = quote.rate
    held = verdict if isinstance(verdict, FxHold) else None
    return ConversionRead(
        currency=quote.currency,
        inr=_rupees(final_paise),
        rate=None if rate is None else format_rate(rate.rate),
        source=None if rate is None else rate.source,
        valid_on=None if rate is None else rate.valid_on,
        amount=None if held or rate is None else _major(to_minor(final_paise, rate.rate)),
        held_reason=None if held is None else held.reason,
    )


def price_derivation(
    variant: Variant, account: MarketplaceAccount, quote: FxQuote | None = None
) -> PriceDerivationRead:
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
        conversion=None if quote is None else conversion(derived.final_paise, quote),
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
    session: AsyncSession,
    listing: Listing,
    account: MarketplaceAccount,
    variant: Variant,
    fx_max_age_days: int = 5,
) -> ListingDetail:
    issues = await repo.issue_timeline(session, listing.id)
    summary = listing_read(
        ListingRow(listing, account.name, account.adapter, account.currency),
        issues[0] if issues else None,
    )
    quote = None
    if account.currency != INR:
        quote = await fx_repo.quote(session, account.currency, utcnow().date(), fx_max_age_days)
    return ListingDetail(
        **dict(summary),
        issues=[IssueRead.model_validate(issue) for issue in issues],
        stock=stock_derivation(variant, account),
        price=price_derivation(variant, account, quote),
    )


async def listings_page(
    session: AsyncSession, where: repo.ListingFilter, *, after: int, limit: int
) -> Page[ListingRead]:
    """One page of listings, oldest first, each with its newest issue."""
    rows = await repo.list_listings(session, where, after=after, limit=limit)
    latest = await repo.latest_issues(session, [row.listing.id for row in rows])
    return Page[ListingRead](
        items=[listing_read(row, latest.get(row.listing.id)) for row in rows],
        next_cursor=rows[-1].listing.id if len(rows) == limit else None,
    )


async def get_listing_detail(
    session: AsyncSession, listing_id: int, agency_scope: int | None, fx_max_age_days: int = 5
) -> ListingDetail:
    found = await repo.get_listing(session, listing_id, agency_scope)
    if found is None:
        raise NotFound(f"no listing {listing_id}")
    listing, account, variant = found
    return await listing_detail(session, listing, account, variant, fx_max_age_days)
