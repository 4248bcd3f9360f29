"""`GET /v1/orders`, `GET /v1/orders/{id}`: orders as pulled, with lines and status history."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from odop_sync.adapter_sdk import OrderStatus
from odop_sync.catalog.schemas import Page
from odop_sync.deps import PrincipalDep, SessionDep
from odop_sync.kit.problems import PROBLEM_RESPONSES, FieldIssue, NotFound, ValidationProblem
from odop_sync.models import Order
from odop_sync.orders import repository as repo
from odop_sync.orders.schemas import (
    OrderDetail,
    OrderLineRead,
    OrderListItem,
    OrderRead,
    OrderStatusChangeRead,
)
from odop_sync.orders.service import IST, sales_day

router = APIRouter(prefix="/v1", tags=["orders"], responses=PROBLEM_RESPONSES)

IdPath = Annotated[int, Path(ge=1, le=2**62)]
After = Annotated[
    int, Query(ge=0, le=2**62, description="cursor: the last id of the previous page")
]
Limit = Annotated[int, Query(ge=1, le=500)]
From = Annotated[
    date | None,
    Query(
        alias="from",
        ge=date(2000, 1, 1),
        le=date(2100, 12, 31),
        description="first purchase day in India (IST), inclusive, e.g. 2025-11-01",
    ),
]
To = Annotated[
    date | None,
    Query(
        ge=date(2000, 1, 1),
        le=date(2100, 12, 31),
        description="last purchase day in India (IST), inclusive; must not be before `from` "
        "(a 422 names `to` otherwise)",
    ),
]


def ist_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), IST)


@router.get("/orders")
async def list_orders(
    session: SessionDep,
    principal: PrincipalDep,
    account_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    status: OrderStatus | None = None,
    sku: Annotated[str | None, Query(max_length=40, description="orders with a line of it")] = None,
    from_: From = None,
    to: To = None,
    after: Annotated[
        int,
        Query(
            ge=0,
            le=2**62,
            description="cursor: `next_cursor` of the previous page (the last id it showed)",
        ),
    ] = 0,
    limit: Limit = 100,
    order: Annotated[
        Literal["oldest", "newest"],
        Query(description="oldest first (by id, the default) or newest first"),
    ] = "oldest",
    details: Annotated[
        bool, Query(description="include each order's lines and status history")
    ] = False,
) -> Page[OrderListItem]:
    """The agency's orders on every marketplace account, oldest first, or newest first with
    `order=newest`; with `details=true` each with its lines and status history, as
    `GET /v1/orders/{id}` shows them."""
    principal.require_catalog_reader()
    if from_ is not None and to is not None and to < from_:
        raise ValidationProblem(
            "'to' is before 'from'",
            errors=[FieldIssue(field="to", message=f"{to} is before 'from' ({from_})")],
        )
    rows = await repo.list_orders(
        session,
        agency_scope=principal.agency_scope(),
        after=after,
        limit=limit,
        account_id=account_id,
        status=status,
        sku=sku,
        purchased_from=None if from_ is None else ist_midnight(from_),
        purchased_before=None if to is None else ist_midnight(to + timedelta(days=1)),
        newest_first=order == "newest",
        with_history=details,
    )
    items = [
        OrderListItem(
            **_order_read(o, adapter).model_dump(),
            **({"lines": _lines(o), "history": _history(o)} if details else {}),
        )
        for o, adapter in rows
    ]
    return Page[OrderListItem](
        items=items, next_cursor=rows[-1][0].id if len(rows) == limit else None
    )


@router.get("/orders/{order_id}")
async def get_order(order_id: IdPath, session: SessionDep, principal: PrincipalDep) -> OrderDetail:
    """One order with its lines (an unknown SKU is kept, flagged `unmatched`) and its status
    history."""
    principal.require_catalog_reader()
    found = await repo.get_order(session, order_id, principal.agency_scope())
    if found is None:
        raise NotFound(f"no order {order_id}")
    order, adapter = found
    return OrderDetail(
        **_order_read(order, adapter).model_dump(),
        lines=_lines(order),
        history=_history(order),
    )


def _lines(order: Order) -> list[OrderLineRead]:
    return [
        OrderLineRead(
            id=line.id,
            line_key=line.line_key,
            sku=line.sku,
            variant_id=line.variant_id,
            unmatched=line.unmatched,
            quantity=line.quantity,
            quantity_cancelled=line.quantity_cancelled,
            quantity_returned=line.quantity_returned,
            quantity_net=line.quantity - line.quantity_cancelled - line.quantity_returned,
            unit_price=_major(line.unit_price_minor),
            inr_rate=None if order.inr_rate is None else line.inr_rate,
            stock_out=line.stock_out,
        )
        for line in order.lines
    ]


def _history(order: Order) -> list[OrderStatusChangeRead]:
    return [
        OrderStatusChangeRead(
            from_status=h.from_status,
            to_status=h.to_status,
            marketplace_status=h.marketplace_status,
            changed_at=h.changed_at,
            recorded_at=h.recorded_at,
        )
        for h in order.history
    ]


def _major(minor: int) -> Decimal:
    return (Decimal(minor) / 100).quantize(Decimal("0.01"))


def _order_read(order: Order, adapter: str) -> OrderRead:
    return OrderRead(
        id=order.id,
        account_id=order.account_id,
        marketplace=adapter,
        marketplace_order_id=order.marketplace_order_id,
        status=order.status,
        marketplace_status=order.marketplace_status,
        purchased_at=order.purchased_at,
        remote_updated_at=order.remote_updated_at,
        currency=order.currency,
        units=sum(line.quantity for line in order.lines),
        total=_major(sum(line.quantity * line.unit_price_minor for line in order.lines)),
        inr_rate=order.inr_rate,
        inr_rate_source=order.inr_rate_source,
        inr_rate_date=order.inr_rate_date,
        inr_rate_missing=_rate_missing(order),
    )


def _rate_missing(order: Order) -> str | None:
    if order.inr_rate is not None or order.currency == "INR":
        return None
    day = sales_day(order.purchased_at)
    return (
        f"no {order.currency} rate: the marketplace gave none with the order, and the FX store "
        f"has none valid on or before {day} (its purchase day in India); the order is left out "
        f"of the INR sales figures until one is set with `odop-sync fx set {order.currency} "
        f"<rate> --source <source> --date {day}` or POST /v1/fx/rates"
    )
