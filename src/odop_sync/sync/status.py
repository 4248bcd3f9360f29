"""`GET /v1/sync/status`: how far behind each account is, in three grouped queries (listings
by account, the order cursors, the newest runs) however many accounts there are."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.kit.time import as_utc, utcnow
from odop_sync.models import Listing, ListingStatus, MarketplaceAccount, OrderCursor, SyncRun

A = MarketplaceAccount
# As the sync lag gauge counts it (odop_sync.metrics): paused and unmapped listings wait on a
# person, not on the engine.
NOT_WAITING_ON_US = (ListingStatus.PAUSED, ListingStatus.NEEDS_MAPPING)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


async def sync_status(session: AsyncSession, agency_scope: int | None) -> list[dict[str, Any]]:
    """Per account in scope: the oldest dirty listing and its age (the sync lag), the newest
    push, the last completed order pull, the open feeds and the newest run."""
    lagging = and_(Listing.dirty_since.is_not(None), Listing.status.notin_(NOT_WAITING_ON_US))
    per_account = (
        select(
            Listing.account_id,
            func.min(case((lagging, Listing.dirty_since))).label("oldest"),
            func.max(Listing.last_pushed_at).label("pushed"),
            func.count(Listing.submission_id.distinct()).label("feeds"),
        )
        .group_by(Listing.account_id)
        .subquery()
    )
    query = (
        select(
            A.id,
            A.agency_id,
            A.name,
            A.adapter,
            A.enabled,
            per_account.c.oldest,
            per_account.c.pushed,
            per_account.c.feeds,
            OrderCursor.pulled_at,
        )
        .outerjoin(per_account, per_account.c.account_id == A.id)
        .outerjoin(OrderCursor, OrderCursor.account_id == A.id)
        .order_by(A.id)
    )
    if agency_scope is not None:
        query = query.where(A.agency_id == agency_scope)
    rows = (await session.execute(query)).all()
    runs = await _newest_runs(session, {row.agency_id for row in rows})
    now = utcnow()
    out = []
    for row in rows:
        oldest = _utc(row.oldest)
        run = max(
            (r for r in (runs.get((row.agency_id, row.id)), runs.get((row.agency_id, None))) if r),
            key=lambda r: r.id,
            default=None,
        )
        out.append(
            {
                "account_id": row.id,
                "account_name": row.name,
                "adapter": row.adapter,
                "enabled": row.enabled,
                "oldest_dirty_since": oldest,
                "lag_seconds": None if oldest is None else max(0.0, (now - oldest).total_seconds()),
                "last_pushed_at": _utc(row.pushed),
                "last_order_pull_at": _utc(row.pulled_at),
                "open_feeds": int(row.feeds or 0),
                "last_run": run,
            }
        )
    return out


async def _newest_runs(
    session: AsyncSession, agency_ids: set[int]
) -> dict[tuple[int, int | None], SyncRun]:
    """The newest run of each (agency, account), None for the agency-wide runs."""
    if not agency_ids:
        return {}
    newest = (
        select(func.max(SyncRun.id))
        .where(SyncRun.agency_id.in_(sorted(agency_ids)))
        .group_by(SyncRun.agency_id, SyncRun.account_id)
    )
    found = await session.scalars(select(SyncRun).where(SyncRun.id.in_(newest)))
    return {(run.agency_id, run.account_id): run for run in found}
