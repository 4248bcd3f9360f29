"""Engine and session factories. Services never commit: the request or job session does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from odop_sync.config import Settings


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, open transactions, so _sqlite_begin can make them IMMEDIATE.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # A deferred transaction that later writes fails at once with SQLITE_BUSY when another
    # writer got there first (busy_timeout does not apply to that upgrade). BEGIN IMMEDIATE takes
    # the write lock up front and waits for it, which serialises the embedded writers safely.
    # Read-only sessions (see `read_only`) begin deferred: under WAL they never wait for writers.
    if conn.get_execution_options().get(READ_ONLY_OPTION):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


READ_ONLY_OPTION = "odop_read_only"


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, for sessions that only read (API GETs): no write lock on SQLite."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def create_engine(settings: Settings, **overrides: Any) -> AsyncEngine:
    url = settings.database_url
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        if ":memory:" in url or url.endswith("sqlite+aiosqlite://"):
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            _ensure_sqlite_dir(url)
            kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
    # orjson: several times faster than json for the batch rows, audits and images written in bulk.
    kwargs.update(json_serializer=_json_dumps, json_deserializer=orjson.loads)
    kwargs.update(overrides)
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A job or CLI unit of work: commits on success, rolls back on any error."""
    async with sessionmaker() as session, session.begin():
        yield session
