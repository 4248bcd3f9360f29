"""Test harness. The whole suite runs against one backend per pytest run:

- SQLite (default): a fresh database file per run, migrated with Alembic.
- PostgreSQL: set ODOP_TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test);
  a fresh database `odop_test_<pid>` is created on that server, migrated, and dropped at the end.

Every test starts from empty tables. `make test` runs both backends.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

os.environ.setdefault("ODOP_ENV", "testing")

from odop_sync.app import create_app
from odop_sync.auth.service import create_key
from odop_sync.config import Settings
from odop_sync.db import create_engine, create_sessionmaker, transaction
from odop_sync.models import Agency, Base, Role

ROOT = Path(__file__).resolve().parents[1]
SANDBOXES = "http://marketplace.test/sandbox"


def backend_url(tmp_root: Path) -> str:
    pg = os.environ.get("ODOP_TEST_POSTGRES_URL")
    if pg:
        return pg
    return f"sqlite+aiosqlite:///{tmp_root / 'odop-test.sqlite3'}"


async def _create_pg_database(server_url: str) -> str:
    url = make_url(server_url)
    name = f"odop_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(server_url: str, db_url: str) -> None:
    name = make_url(db_url).database
    admin = create_async_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


def migrate(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()  # the migrations shipped in the package, as `odop-sync db upgrade` runs them
    cfg.set_main_option("script_location", "odop_sync:migrations")
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


@pytest.fixture(scope="session")
def backend() -> str:
    return "postgresql" if os.environ.get("ODOP_TEST_POSTGRES_URL") else "sqlite"


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    root = tmp_path_factory.mktemp("db")
    server = os.environ.get("ODOP_TEST_POSTGRES_URL")
    url = await _create_pg_database(server) if server else backend_url(root)
    # Alembic's env runs its own event loop; keep it off ours.
    await asyncio.to_thread(migrate, url)
    yield url
    if server:
        await _drop_pg_database(server, url)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    # The in-process sandboxes stand in for the marketplaces' hosts (tests mount them under
    # SANDBOXES, see tests/sync/conftest.py), as an operator's marketplace_hosts setting does.
    return Settings(
        env="testing",
        database_url=database_url,
        marketplace_hosts={
            slug: f"{SANDBOXES}/{slug}" for slug in ("amazon", "flipkart", "alibaba")
        },
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[Any]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessionmaker(engine: Any) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "engine" not in request.fixturenames:
        return
    await empty_tables(request.getfixturevalue("engine"))


async def empty_tables(engine: Any, keep: frozenset[str] = frozenset()) -> None:
    """Every table but `keep` emptied (PostgreSQL also restarts the ids)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in keep]
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))


HOURS = 6 * 3600.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "schedules_hours_apart: the app's periodic jobs (sync sweep and reconcile, order pull) "
        "fire hours apart, so what the test sees happen came from an event, not a schedule",
    )


def hours_between_schedules(settings: Settings) -> Settings:
    """The settings with every periodic job hours apart (testing.toml has the sweep and the
    order pull at 1 s): nothing a test waits for can then be done by a schedule."""
    return settings.model_copy(
        update={
            "sync": settings.sync.model_copy(
                update={"sweep_interval_s": HOURS, "reconcile_interval_s": HOURS}
            ),
            "orders": settings.orders.model_copy(update={"pull_interval_s": HOURS}),
        }
    )


@pytest.fixture
async def app(
    settings: Settings, engine: Any, request: pytest.FixtureRequest
) -> AsyncIterator[Any]:
    if request.node.get_closest_marker("schedules_hours_apart") is not None:
        settings = hours_between_schedules(settings)
    application = create_app(settings, workers=True)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


MakeAgency = Callable[..., Awaitable[Agency]]
MakeKey = Callable[..., Awaitable[str]]


@pytest.fixture
def make_agency(sessionmaker: async_sessionmaker[AsyncSession]) -> MakeAgency:
    async def make(slug: str = "up-odop", name: str | None = None) -> Agency:
        async with transaction(sessionmaker) as session:
            agency = Agency(slug=slug, name=name or slug.upper())
            session.add(agency)
        return agency

    return make


@pytest.fixture
def make_key(sessionmaker: async_sessionmaker[AsyncSession]) -> MakeKey:
    async def make(
        role: str = "agency", agency: str | None = None, grants: list[str] | None = None
    ) -> str:
        async with transaction(sessionmaker) as session:
            _, plaintext = await create_key(
                session,
                role=Role(role),
                name=f"test {role}",
                agency_slug=agency,
                grant_slugs=grants,
            )
        return plaintext

    return make


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
