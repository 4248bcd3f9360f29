"""`GET /v1/listings`: per-account listing state, the issue timeline, price and stock derivation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import select

from odop_sync.auth.service import read_scope
from odop_sync.catalog.schemas import Page
from odop_sync.deps import PrincipalDep, SessionDep, SettingsDep
from odop_sync.kit.problems import PROBLEM_RESPONSES
from odop_sync.listings import console, service
from odop_sync.listings.repository import ListingFilter
from odop_sync.listings.schemas import (
    AccountListingCounts,
    ListingDetail,
    ListingRead,
    StatusCounts,
)
from odop_sync.models import ApiKey, ListingStatus

router = APIRouter(prefix="/v1", tags=["listings"], responses=PROBLEM_RESPONSES)

IdPath = Annotated[int, Path(ge=1, le=2**62)]
AgencyQuery = Annotated[
    str | None,
    Query(max_length=64, description="agency slug: an admin key sees all agencies without it"),
]
After = Annotated[
    int, Query(ge=0, le=2**62, description="cursor: the last id of the previous page")
]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/listings")
async def list_listings(
    session: SessionDep,
    principal: PrincipalDep,
    agency: AgencyQuery = None,
    account_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    status: ListingStatus | None = None,
    sku: Annotated[str | None, Query(max_length=40)] = None,
    dirty: Annotated[
        bool | None,
        Query(description="true: desired differs from what the marketplace confirmed"),
    ] = None,
    after: After = 0,
    limit: Limit = 100,
) -> Page[ListingRead]:
    """The agency's listings, one per (variant × marketplace account), oldest first."""
    scope = await read_scope(session, principal, agency)
    where = ListingFilter(scope, account_id, status, sku, dirty)
    return await service.listings_page(session, where, after=after, limit=limit)


@router.get("/listings/counts")
async def listing_counts(
    session: SessionDep, principal: PrincipalDep, agency: AgencyQuery = None
) -> list[AccountListingCounts]:
    """Per marketplace account in scope (those without listings too): its listings counted by
    status, every status present, and how many are dirty (desired differs from confirmed)."""
    scope = await read_scope(session, principal, agency)
    return [
        AccountListingCounts(
            account_id=c.account_id,
            account_name=c.account_name,
            adapter=c.adapter,
            enabled=c.enabled,
            counts=StatusCounts(**c.counts),
            dirty=c.dirty,
        )
        for c in await console.counts_by_account(session, scope)
    ]


@router.get("/listings/{listing_id}")
async def get_listing(
    listing_id: IdPath, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> ListingDetail:
    """One listing with its issue timeline (newest first) and how its price and quantity are
    derived from the canonical variant and the account's rules right now (for an account in
    another currency, with the conversion at the FX rate in force today)."""
    principal.require_catalog_reader()
    return await service.get_listing_detail(
        session, listing_id, principal.agency_scope(), settings.fx.max_age_days
    )


@router.post("/listings/{listing_id}/retry")
async def retry_listing(
    listing_id: IdPath,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> ListingDetail:
    """Give a paused (or rejected) listing another chance now: it becomes pending, its failure
    count and backoff are forgotten, its timeline says who retried it, and the engine pushes it
    at once. 409 when the listing is in another state (the answer says which)."""
    principal.require_write()
    scope = principal.agency_scope()
    name = await session.scalar(select(ApiKey.name).where(ApiKey.id == principal.key_id))
    actor = f"{name} ({principal.actor})" if name else principal.actor
    agency_id, variant_id = await console.retry_listing(session, listing_id, scope, actor)
    await session.commit()
    request.app.state.events.catalog_changed(agency_id, [variant_id])
    return await service.get_listing_detail(session, listing_id, scope, settings.fx.max_age_days)
