"""Engine and session factories. Services never commit: the request or job session does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from itertools import chain
from typing import Any

import orjson
from sqlalchemy import JSON, Column, ColumnElement, Table, any_, bindparam, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
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


def reader_of(sessionmaker: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Sessions on the same engine that only read: on SQLite they take no write lock (WAL readers
    never wait for the writer, nor make it wait)."""
    bind = sessionmaker.kw.get("bind")
    return create_sessionmaker(read_only(bind)) if isinstance(bind, AsyncEngine) else sessionmaker


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


# --- Set-based statements below the ORM ---------------------------------------------------------
#
# The batch path writes thousands of rows per transaction. Core `insert()` executemany pays, per
# row, SQLAlchemy's parameter bookkeeping and, on PostgreSQL, a VALUES list of up to
# 1000 rows x columns bind parameters that the server parses and plans for every page. These
# helpers keep the bind processing of the column types (so what is stored is what Core would
# store) but hand the driver one statement per table: on PostgreSQL one INSERT ... SELECT FROM
# unnest(one array per column); on SQLite one executemany, or multi-row VALUES pages when rows
# must come back (RETURNING).

_NOTHING = object()
# SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32 (SQLAlchemy pages by the same figure).
SQLITE_MAX_PARAMETERS = 32766


def _bound_values(column: Column[Any], values: list[Any], dialect: Dialect) -> list[Any]:
    """`values` through the column type's bind processor, as a compiled statement does it."""
    process = column.type._cached_bind_processor(dialect)
    if process is None:
        return values
    out: list[Any] = []
    last: Any = _NOTHING
    last_bound: Any = None
    for value in values:
        # A batch repeats one timestamp (and often other values) down a column: process it once.
        if value is not last:
            last, last_bound = value, process(value)
        out.append(last_bound)
    return out


def _columns(table: Table, names: Sequence[str]) -> list[Column[Any]]:
    given = set(names)
    for column in table.c:
        # Core would fill a Python-side default in; these helpers do not, so callers must.
        if column.name not in given and column.default is not None and not column.primary_key:
            raise ValueError(f"{table.name}.{column.name} has a default: give it explicitly")
    return [table.c[name] for name in names]


async def insert_many(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: Sequence[str] = (),
    skip_conflicts_on: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT `rows` (dicts with the same keys) into `table` in the session's transaction.

    `skip_conflicts_on`: ON CONFLICT (those columns) DO NOTHING. `returning`: names of columns
    whose values come back, a tuple per inserted row, in no particular order and as the driver
    returns them (meant for ids and text keys).
    """
    if not rows:
        return []
    conn = await session.connection()
    dialect = conn.dialect
    names = list(rows[0])
    columns = _columns(table, names)
    bound = [
        _bound_values(column, [row[name] for row in rows], dialect)
        for name, column in zip(names, columns, strict=True)
    ]
    quote = dialect.identifier_preparer.quote
    into = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
    into += f"({', '.join(map(quote, names))})"
    tail = ""
    if skip_conflicts_on:
        tail += f" ON CONFLICT ({', '.join(map(quote, skip_conflicts_on))}) DO NOTHING"
    if returning:
        tail += f" RETURNING {', '.join(map(quote, returning))}"
    if dialect.name == "postgresql":
        # One array per column; JSON travels as text and is cast, as the driver's codec would.
        casts: list[str] = []
        exprs: list[str] = []
        for n, column in enumerate(columns, 1):
            sql_type = column.type.compile(dialect=dialect)
            if isinstance(column.type.dialect_impl(dialect), JSON):
                casts.append(f"${n}::TEXT[]")
                exprs.append(f"u.c{n}::{sql_type}")
            else:
                casts.append(f"${n}::{sql_type}[]")
                exprs.append(f"u.c{n}")
        aliases = ", ".join(f"c{n}" for n in range(1, len(columns) + 1))
        # Only quoted names from the table's metadata and numbered placeholders: no input text.
        sql = f"{into} SELECT {', '.join(exprs)} FROM unnest({', '.join(casts)}) AS u({aliases})"  # noqa: S608
        sql += tail
        result = await conn.exec_driver_sql(sql, tuple(bound))
        return [tuple(r) for r in result.all()] if returning else []
    # SQLite: multi-row VALUES pages (one statement step per page instead of one per row).
    records = list(zip(*bound, strict=True))
    one = f"({', '.join('?' * len(names))})"
    per_page = max(1, min(dialect.insertmanyvalues_page_size, SQLITE_MAX_PARAMETERS // len(names)))
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(records), per_page):
        page = records[start : start + per_page]
        sql = f"{into} VALUES {', '.join([one] * len(page))}{tail}"
        result = await conn.exec_driver_sql(sql, tuple(chain.from_iterable(page)))
        if returning:
            out.extend(tuple(r) for r in result.all())
    return out


def matches_any(column: ColumnElement[Any], values: Collection[Any], dialect: Dialect) -> Any:
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)`, one parameter however many
    values, so the statement is prepared once instead of once per list length."""
    if dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)
