"""Accounts created before hosts came from the adapters keep working: the migration takes
endpoint, token_url and product_types_file out of their stored credentials (issue 11, point 3)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from odop_sync.accounts.crypto import CredentialCipher
from odop_sync.config import get_settings
from odop_sync.db import create_sessionmaker, transaction
from odop_sync.models import Agency, MarketplaceAccount

DROPPED = ("endpoint", "token_url", "product_types_file")

REVISION = "5a1e0c7d9b21"  # credentials name no hosts


def _config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "odop_sync:migrations")
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    return cfg


async def _sql(url: str, statement: str, **params: object) -> list[sa.Row[tuple[object, ...]]]:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        result = await conn.execute(sa.text(statement), params)
        rows = list(result.fetchall()) if result.returns_rows else []
    await engine.dispose()
    return rows


def test_stored_hosts_are_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    before = ScriptDirectory.from_config(_config(url)).get_revision(REVISION).down_revision
    assert isinstance(before, str)
    command.upgrade(_config(url), "head")  # rows written with today's models, then taken back
    # to the revision before the migration, as a database of the last release would hold them
    cipher = CredentialCipher(get_settings().encryption_key)
    old_amazon = {
        "seller_id": "A1OLD",
        "lwa_client_id": "amzn1.application-oa2-client.x",
        "lwa_client_secret": "s3cret",
        "refresh_token": "Atzr|x",
        "endpoint": "http://127.0.0.1:8000/sandbox/amazon",
        "token_url": "http://127.0.0.1:8000/sandbox/amazon/auth/o2/token",
        "product_types_file": "/etc/odop/types.toml",
    }
    old_flipkart = {
        "app_id": "app",
        "app_secret": "s3cret",
        "location_id": "LOC1",
        "endpoint": "https://sandbox-api.flipkart.net",
    }

    async def seed() -> None:
        engine = create_async_engine(url)
        async with transaction(create_sessionmaker(engine)) as session:
            agency = Agency(slug="a", name="A")
            session.add(agency)
            await session.flush()
            for adapter, creds in [("amazon", old_amazon), ("flipkart", old_flipkart)]:
                session.add(
                    MarketplaceAccount(
                        agency_id=agency.id,
                        adapter=adapter,
                        name=adapter,
                        credentials_encrypted=cipher.encrypt(creds),
                    )
                )
        await engine.dispose()

    asyncio.run(seed())
    command.downgrade(_config(url), before)
    command.upgrade(_config(url), "head")
    rows = asyncio.run(
        _sql(url, "SELECT adapter, credentials_encrypted FROM marketplace_accounts ORDER BY id")
    )
    stored = {adapter: cipher.decrypt(str(token)) for adapter, token in rows}
    assert stored["amazon"] == {
        k: v
        for k, v in old_amazon.items()
        if k not in ("endpoint", "token_url", "product_types_file")
    }
    assert stored["flipkart"] == {
        "app_id": "app",
        "app_secret": "s3cret",
        "location_id": "LOC1",
        "environment": "sandbox",
    }
