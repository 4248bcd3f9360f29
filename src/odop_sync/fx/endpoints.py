"""`POST /v1/fx/rates` (admin) and `GET /v1/fx/rates`: the FX rates foreign-currency prices and
orders are converted at."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from odop_sync.deps import PrincipalDep, SessionDep, SettingsDep
from odop_sync.fx import service
from odop_sync.fx.schemas import FxRateCreate, FxRateList, FxRateSet
from odop_sync.kit.problems import BODY_RESPONSES, PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["fx"], responses=PROBLEM_RESPONSES)


@router.post(
    "/fx/rates",
    status_code=status.HTTP_201_CREATED,
    responses={**BODY_RESPONSES, 200: {"model": FxRateSet, "description": "a rate replaced"}},
)
async def set_rate(
    body: FxRateCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
) -> FxRateSet:
    """Set the rate of a currency for a day (admin keys only): 201 for a new one, 200 when it
    replaces the rate of the same currency, date and source. Orders in that currency that had
    no rate get one, and every account selling in it re-projects its prices at once: listings
    that waited for a rate go out."""
    principal.require_admin()
    result = await service.set_rate(
        session,
        currency=body.currency,
        rate=body.rate,
        source=body.source,
        valid_on=body.valid_on,
        actor=principal.actor,
    )
    await session.commit()
    for agency_id in result.agencies:
        request.app.state.events.catalog_changed(agency_id, [])
    if result.read.replaced is not None:
        response.status_code = status.HTTP_200_OK
    return result.read


@router.get("/fx/rates")
async def list_rates(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    currency: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{3}$", description="only this currency, e.g. USD")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FxRateList:
    """The stored rates, newest first, and per currency the rate in force today (UTC) and
    whether it is fresh enough to price listings with (`fx.max_age_days`). Any key."""
    del principal  # any valid key may read the rates
    return await service.list_rates(
        session, currency=currency, limit=limit, max_age_days=settings.fx.max_age_days
    )
