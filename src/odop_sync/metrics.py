"""Prometheus metrics an operator would page on.

Counters and the leases gauge are kept by this process as things happen; the two lag gauges are
read from the database when `/metrics` is scraped (`refresh_lags`: one grouped query each, over
the enabled accounts), so every process reports the same lag whichever of them does the work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.kit.time import as_utc
from odop_sync.models import Listing, ListingStatus, MarketplaceAccount, OrderCursor

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "odop_http_requests_total",
    "HTTP requests by route and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "odop_http_request_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    registry=REGISTRY,
)
BATCH_ROWS = Counter(
    "odop_batch_rows_total", "Batch rows processed by outcome", ["outcome"], registry=REGISTRY
)
JOB_RUNS = Counter(
    "odop_job_runs_total", "Job runs by job kind and result", ["kind", "result"], registry=REGISTRY
)
SYNC_CALLS = Counter(
    "odop_sync_calls_total",
    "Marketplace calls by adapter, operation and outcome (ok, retryable, permanent)",
    ["adapter", "operation", "outcome"],
    registry=REGISTRY,
)
SYNC_ITEMS = Counter(
    "odop_sync_items_total",
    "Listing items pushed or resolved, by adapter and result",
    ["adapter", "result"],
    registry=REGISTRY,
)
SYNC_LAG = Gauge(
    "odop_sync_lag_seconds",
    "Age of the account's oldest dirty listing (desired differs from confirmed; paused and "
    "unmapped listings left out), 0 when none is dirty",
    ["account", "adapter"],
    registry=REGISTRY,
)
ORDER_PULL_LAG = Gauge(
    "odop_order_pull_lag_seconds",
    "Age of the account's last completed order pull (of the account itself before its first)",
    ["account", "adapter"],
    registry=REGISTRY,
)
ORDER_PULLS = Counter(
    "odop_order_pulls_total",
    "Order pulls of one account by this process, by result (ok, failed)",
    ["account", "adapter", "result"],
    registry=REGISTRY,
)
LEASES_HELD = Gauge(
    "odop_leases_held",
    "Leases this process holds now: sync (an account's push lease), orders (an account's pull "
    "lease), jobs (a background job)",
    ["kind"],
    registry=REGISTRY,
)
for _kind in ("sync", "orders", "jobs"):
    LEASES_HELD.labels(_kind)
PERIODIC_RUNS = Counter(
    "odop_periodic_job_runs_total",
    "Periodic job firings this process ran, by job id",
    ["job"],
    registry=REGISTRY,
)
PERIODIC_FAILURES = Counter(
    "odop_periodic_job_failures_total",
    "Periodic job firings that failed (raised), by job id",
    ["job"],
    registry=REGISTRY,
)

_NOT_WAITING_ON_US = (ListingStatus.PAUSED, ListingStatus.NEEDS_MAPPING)


async def refresh_lags(
    session: AsyncSession, now: datetime, pulls_orders: Callable[[str], bool]
) -> None:
    """Set the lag gauges of every enabled account from two grouped queries (the oldest dirty
    listing through the `dirty_since` index; the order cursors, one row per account).
    `pulls_orders(adapter_slug)`: whether the account's orders are pulled at all."""
    dirty = (
        select(Listing.account_id, func.min(Listing.dirty_since).label("oldest"))
        .where(Listing.dirty_since.is_not(None), Listing.status.notin_(_NOT_WAITING_ON_US))
        .group_by(Listing.account_id)
        .subquery()
    )
    sync_rows = (
        await session.execute(
            select(MarketplaceAccount.id, MarketplaceAccount.adapter, dirty.c.oldest)
            .outerjoin(dirty, dirty.c.account_id == MarketplaceAccount.id)
            .where(MarketplaceAccount.enabled.is_(True))
        )
    ).all()
    pull_rows = (
        await session.execute(
            select(
                MarketplaceAccount.id,
                MarketplaceAccount.adapter,
                MarketplaceAccount.created_at,
                OrderCursor.pulled_at,
            )
            .outerjoin(OrderCursor, OrderCursor.account_id == MarketplaceAccount.id)
            .where(MarketplaceAccount.enabled.is_(True))
        )
    ).all()
    # No await from here on: a scrape in between never sees half of the series.
    SYNC_LAG.clear()
    for account_id, adapter, oldest in sync_rows:
        SYNC_LAG.labels(str(account_id), adapter).set(_age(now, oldest))
    ORDER_PULL_LAG.clear()
    for account_id, adapter, created_at, pulled_at in pull_rows:
        if pulls_orders(adapter):
            ORDER_PULL_LAG.labels(str(account_id), adapter).set(_age(now, pulled_at or created_at))


def _age(now: datetime, then: datetime | None) -> float:
    if then is None:
        return 0.0
    return max(0.0, (now - as_utc(then)).total_seconds())
