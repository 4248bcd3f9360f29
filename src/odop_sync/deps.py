"""`Annotated` dependency aliases shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.auth.service import Principal, acting_agency_id, principal_for_key
from odop_sync.config import Settings
from odop_sync.jobs.runner import JobRunner
from odop_sync.kit.problems import Unauthorized

__all__ = [
    "PrincipalDep",
    "RunnerDep",
    "SessionDep",
    "SettingsDep",
    "acting_agency_id",
    "get_principal",
    "get_runner",
    "get_session",
    "get_settings_dep",
]


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
