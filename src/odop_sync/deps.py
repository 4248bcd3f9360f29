"""`Annotated` dependency aliases shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.auth.service import Principal, principal_for_key
from odop_sync.config import Settings
from odop_sync.jobs.runner import JobRunner
from odop_sync.kit.problems import NotFound, Unauthorized, ValidationProblem
from odop_sync.models import Agency, Role


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    # Write endpoints commit explicitly before they answer, so a failed commit is never
    # reported as success; anything uncommitted is rolled back here. GETs only read, and on
    # SQLite they must not queue behind a batch that is being written.
    factory = (
        request.app.state.read_sessionmaker
        if request.method in ("GET", "HEAD")
        else request.app.state.sessionmaker
    )
    async with factory() as session:
        yield session


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.runner
    return runner


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]


async def get_principal(request: Request, session: SessionDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("send 'Authorization: Bearer <api key>'")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <api key>'")
    principal = await principal_for_key(session, token.strip())
    if principal is None:
        raise Unauthorized("this API key is unknown or revoked")
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def acting_agency_id(session: AsyncSession, principal: Principal, agency: str | None) -> int:
    """The agency a write acts for: an agency key's own; an admin names one with ?agency=SLUG."""
    if principal.role is Role.AGENCY:
        if principal.agency_id is None:  # an agency key always names its agency
            raise Unauthorized("this agency key has no agency")
        if agency is not None:
            own = await session.scalar(select(Agency.slug).where(Agency.id == principal.agency_id))
            if agency != own:
                raise NotFound(f"no agency {agency!r}")
        return principal.agency_id
    principal.require_write()
    if not agency:
        raise ValidationProblem(
            "an admin key must name the agency with ?agency=SLUG",
            errors=None,
        )
    agency_id = await session.scalar(select(Agency.id).where(Agency.slug == agency))
    if agency_id is None:
        raise NotFound(f"no agency {agency!r}")
    return agency_id
