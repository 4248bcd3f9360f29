"""`GET /v1/listings`: per-account listing state, the issue timeline, price and stock derivation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.auth.service import Principal
from odop_sync.catalog.schemas import Page
from odop_sync.deps import PrincipalDep, SessionDep
from odop_sync.kit.problems import PROBLEM_RESPONSES, NotFound
from odop_sync.listings import service
from odop_sync.listings.schemas import ListingDetail, ListingRead
from odop_sync.models import Agency, ListingStatus, Role

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


async def _read_scope(
    session: AsyncSession, principal: Principal, agency: str | None
) -> int | None:
    """The agency whose listings this key reads: an agency key's own; an admin's choice or all."""
    principal.require_catalog_reader()
    scope = principal.agency_scope()
    if agency is None:
        return scope
    agency_id = await session.scalar(select(Agency.id).where(Agency.slug == agency))
    # Another agency's slug looks exactly like an unknown one to an agency key.
    if agency_id is None or (principal.role is not Role.ADMIN and agency_id != scope):
        raise NotFound(f"no agency {agency!r}")
    return agency_id


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
    scope = await _read_scope(session, principal, agency)
    rows = await service.list_listings(
        session,
        agency_scope=scope,
        after=after,
        limit=limit,
        account_id=account_id,
        status=status,
        sku=sku,
        dirty=dirty,
    )
    latest = await service.latest_issues(session, [row.listing.id for row in rows])
    return Page[ListingRead](
        items=[service.listing_read(row, latest.get(row.listing.id)) for row in rows],
        next_cursor=rows[-1].listing.id if len(rows) == limit else None,
    )


@router.get("/listings/{listing_id}")
async def get_listing(
    listing_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> ListingDetail:
    """One listing with its issue timeline (newest first) and how its price and quantity are
    derived from the canonical variant and the account's rules right now."""
    principal.require_catalog_reader()
    found = await service.get_listing(session, listing_id, principal.agency_scope())
    if found is None:
        raise NotFound(f"no listing {listing_id}")
    listing, account, variant = found
    return await service.listing_detail(session, listing, account, variant)
