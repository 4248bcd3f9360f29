"""`GET /v1/sales/summary` and `.csv`: units, gross, net, orders and growth, grouped."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from odop_sync.auth.service import Principal
from odop_sync.deps import PrincipalDep, SessionDep
from odop_sync.kit.problems import PROBLEM_RESPONSES, FieldIssue, ValidationProblem
from odop_sync.kit.time import utcnow
from odop_sync.models import Role
from odop_sync.orders.service import IST
from odop_sync.sales import service
from odop_sync.sales.filters import SalesFilters, sales_filters
from odop_sync.sales.repository import Filters
from odop_sync.sales.schemas import PERIODS, Dimension, SalesSummary

router = APIRouter(prefix="/v1/sales", tags=["sales"], responses=PROBLEM_RESPONSES)

MAX_DAYS = 3660  # ten years


def _invalid(field: str, message: str) -> ValidationProblem:
    return ValidationProblem(
        f"{field}: {message}", errors=[FieldIssue(field=field, message=message)]
    )


def parse_group_by(raw: str | None) -> list[Dimension]:
    if not raw:
        return []
    dims: list[Dimension] = []
    for part in (p.strip() for p in raw.split(",")):
        try:
            dim = Dimension(part)
        except ValueError:
            allowed = ", ".join(d.value for d in Dimension)
            raise _invalid("group_by", f"unknown dimension {part!r}; use {allowed}") from None
        if dim not in dims:
            dims.append(dim)
    if sum(d in PERIODS for d in dims) > 1:
        raise _invalid("group_by", "at most one of day, month and quarter")
    return dims


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    today = utcnow().astimezone(IST).date()
    end = end or today
    start = start or end - timedelta(days=29)
    if end < start:
        raise _invalid("to", f"{end} is before 'from' ({start})")
    if (end - start).days >= MAX_DAYS:
        raise _invalid("from", f"the range may span at most {MAX_DAYS} days")
    return start, end


def _agency_ids(principal: Principal) -> Collection[int] | None:
    """Admin: every agency; an agency key: its own; a partner key: the agencies granted to it."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.PARTNER:
        return principal.granted_agency_ids
    return [] if principal.agency_id is None else [principal.agency_id]


GroupBy = Annotated[
    str | None,
    Query(
        max_length=200,
        description="comma-separated: district, producer, craft, product, marketplace, and at "
        "most one of day, month, quarter",
        examples=["district,month"],
    ),
]
To = Annotated[
    date | None,
    Query(
        ge=date(2000, 1, 1),
        le=date(2100, 12, 31),
        description="last Indian (IST) day, inclusive; must not be before `from` (a 422 "
        "names `to` otherwise); default: today",
    ),
]
From = Annotated[
    date | None,
    Query(
        alias="from",
        ge=date(2000, 1, 1),
        le=date(2100, 12, 31),
        description=f"first Indian (IST) day, inclusive; default: 29 days before `to` (30 days "
        f"in all). At most {MAX_DAYS - 1} days before `to` (a 422 names `from` otherwise)",
    ),
]


IdQuery = Annotated[int | None, Query(ge=1, le=2**62)]
Text = Annotated[str | None, Query(max_length=120)]


async def _summary(
    session: SessionDep,
    principal: PrincipalDep,
    group_by: GroupBy = None,
    from_: From = None,
    to: To = None,
    account_id: IdQuery = None,
    marketplace: Text = None,
    district: Text = None,
    producer_id: IdQuery = None,
    craft: Text = None,
    product_id: IdQuery = None,
) -> SalesSummary:
    """The query both the JSON and the CSV answer share (a dependency: one parameter list)."""
    dims = parse_group_by(group_by)
    start, end = _range(from_, to)
    filters = Filters(
        agency_ids=_agency_ids(principal),
        account_id=account_id,
        marketplace=marketplace,
        district=district,
        producer_id=producer_id,
        craft=craft,
        product_id=product_id,
    )
    return await service.summary(session, start=start, end=end, group_by=dims, filters=filters)


SummaryDep = Annotated[SalesSummary, Depends(_summary)]


@router.get("/summary", response_model_by_alias=True)
async def sales_summary(result: SummaryDep) -> SalesSummary:
    """Units, gross and net (cancelled and returned units left out), orders and growth against
    the previous period of equal length, per group; `as_of` says how fresh the figures are.
    A partner key sees the agencies granted to it, an agency key its own, admin all."""
    return result


@router.get(
    "/summary.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "a header row, then groups"}},
)
async def sales_summary_csv(result: SummaryDep) -> StreamingResponse:
    """The summary's rows as CSV (money in rupees)."""
    name = f"sales-{result.from_}-{result.to}.csv"
    return StreamingResponse(
        service.to_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/filters")
async def sales_filter_values(session: SessionDep, principal: PrincipalDep) -> SalesFilters:
    """The values the summary's filters can take, for a dashboard's drop-downs: the districts
    (`district`, with their English and Hindi names) and crafts (`craft`) of the products in
    scope, the marketplaces of its accounts (`marketplace`) and its producers (`producer_id`),
    each sorted. Scoped as the summary is: a partner key sees the agencies granted to it, an
    agency key its own, admin all."""
    return await sales_filters(session, _agency_ids(principal))
