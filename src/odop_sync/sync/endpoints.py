"""`POST /v1/sync/runs` ("sync now") and reading runs back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlalchemy import select

from odop_sync.auth.service import read_scope
from odop_sync.deps import PrincipalDep, SessionDep, acting_agency_id
from odop_sync.kit.problems import BODY_RESPONSES, PROBLEM_RESPONSES, Conflict, NotFound
from odop_sync.models import MarketplaceAccount, SyncRun
from odop_sync.sync.schemas import AccountSyncStatus, SyncRunCreate, SyncRunRead
from odop_sync.sync.status import sync_status

router = APIRouter(prefix="/v1", tags=["sync"], responses=PROBLEM_RESPONSES)
IdPath = Annotated[int, Path(ge=1, le=2**62)]


def _read(run: SyncRun) -> SyncRunRead:
    return SyncRunRead(
        id=run.id,
        agency_id=run.agency_id,
        account_id=run.account_id,
        status=run.status,
        requested_by=run.requested_by,
        summary=run.summary,
        created_at=run.created_at,
        finished_at=run.finished_at,
    )


@router.post(
    "/sync/runs",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **BODY_RESPONSES,
        202: {
            "description": "queued; the engine picks it up at once",
            "headers": {
                "Location": {
                    "description": "the run, to poll",
                    "schema": {"type": "string", "example": "/v1/sync/runs/42"},
                }
            },
        },
    },
)
async def create_run(
    body: SyncRunCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    agency: Annotated[str | None, Query(max_length=64)] = None,
) -> SyncRunRead:
    """Sync one account (or all the agency's enabled accounts) now; the run is done when every
    listing has been pushed and every feed resolved. Poll `GET /v1/sync/runs/{id}`."""
    principal.require_write()
    agency_id = await acting_agency_id(session, principal, agency)
    if body.account_id is not None:
        account = await session.get(MarketplaceAccount, body.account_id)
        if account is None or account.agency_id != agency_id:
            raise NotFound(f"no account {body.account_id}")
        if not account.enabled:
            raise Conflict(f"account {account.id} is disabled; enable it to sync it")
    run = SyncRun(
        agency_id=agency_id,
        account_id=body.account_id,
        status="queued",
        requested_by=principal.actor[:100],
    )
    session.add(run)
    await session.flush()
    await session.commit()
    request.app.state.events.sync_requested(run.id)
    response.headers["Location"] = f"/v1/sync/runs/{run.id}"
    return _read(run)


@router.get("/sync/runs/{run_id}")
async def get_run(run_id: IdPath, session: SessionDep, principal: PrincipalDep) -> SyncRunRead:
    principal.require_catalog_reader()
    run = await session.get(SyncRun, run_id)
    scope = principal.agency_scope()
    if run is None or (scope is not None and run.agency_id != scope):
        raise NotFound(f"no sync run {run_id}")
    return _read(run)


@router.get("/sync/runs")
async def list_runs(
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[SyncRunRead]:
    """The most recent runs first."""
    principal.require_catalog_reader()
    query = select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)
    scope = principal.agency_scope()
    if scope is not None:
        query = query.where(SyncRun.agency_id == scope)
    return [_read(run) for run in await session.scalars(query)]


@router.get("/sync/status")
async def get_sync_status(
    session: SessionDep,
    principal: PrincipalDep,
    agency: Annotated[
        str | None,
        Query(max_length=64, description="agency slug: an admin key sees all agencies without it"),
    ] = None,
) -> list[AccountSyncStatus]:
    """Per marketplace account in scope: the sync lag (age of the oldest dirty listing, as the
    `odop_sync_lag_seconds` metric defines it), the newest push, the last order pull, the open
    feeds and the newest sync run."""
    scope = await read_scope(session, principal, agency)
    rows = await sync_status(session, scope)
    return [
        AccountSyncStatus(
            **{k: v for k, v in row.items() if k != "last_run"},
            last_run=None if row["last_run"] is None else _read(row["last_run"]),
        )
        for row in rows
    ]
