"""`odop-sync fx set` and `odop-sync fx list`, as an operator runs them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.db import transaction
from odop_sync.models import Agency, MarketplaceAccount
from odop_sync.sync.notify import CHANNEL, asyncpg_dsn
from tests.cli.test_jobs import odop_sync, plain

TODAY = datetime.now(UTC).date()


class TestFxCommands:
    # `engine`: the tables are emptied after each test (the CLI writes them from outside).
    async def test_set_then_replace_then_list(self, database_url: str, engine: Any) -> None:
        day = str(TODAY - timedelta(days=1))
        done = await odop_sync(database_url, "fx", "set", "USD", "84.10", "--source", "RBI",
                               "--date", day)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"USD rate set: 1 USD = ₹84.10 (RBI, valid on {day})" in plain(done.stderr)
        again = await odop_sync(database_url, "fx", "set", "usd", "84.12", "--source", "RBI",
                                "--date", day)  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert "USD rate replaced 84.10 with 84.12: 1 USD = ₹84.12" in plain(again.stderr)

        listed = await odop_sync(database_url, "fx", "list", "--currency", "USD")
        assert listed.returncode == 0, listed.stderr
        out = plain(listed.stdout)
        assert f"USD {day} 84.12 RBI" in out and " cli " in out + " "
        assert f"USD in force today: 84.12 (RBI, {day})" in out

    async def test_bad_input_exits_2_naming_the_field(self, database_url: str, engine: Any) -> None:
        inr = await odop_sync(database_url, "fx", "set", "INR", "1", "--source", "RBI")
        assert inr.returncode == 2
        assert "currency: 'INR' rates are INR per unit of another currency" in plain(inr.stderr)
        words = await odop_sync(database_url, "fx", "set", "USD", "eighty", "--source", "RBI")
        assert words.returncode == 2
        assert "rate: eighty must be a number above 0" in plain(words.stderr)
        day = await odop_sync(database_url, "fx", "set", "USD", "84.12", "--source", "RBI",
                              "--date", "2026-13-01")  # fmt: skip
        assert day.returncode == 2
        assert "'2026-13-01' is not a date" in plain(day.stderr)
        listed = await odop_sync(database_url, "fx", "list")
        assert "no rates stored" in plain(listed.stdout)


class TestWakesWorkers:
    async def test_on_postgresql_fx_set_tells_the_workers_of_the_agencies_selling_in_it(
        self,
        database_url: str,
        backend: str,
        engine: Any,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        if backend != "postgresql":
            pytest.skip("SQLite is one process: its own sweep picks the rate up")
        async with transaction(sessionmaker) as session:
            agency = Agency(slug="up-odop", name="UP ODOP")
            session.add(agency)
            await session.flush()
            session.add(
                MarketplaceAccount(
                    agency_id=agency.id, adapter="usd-market", name="export",
                    credentials_encrypted="-", currency="USD",
                )
            )  # fmt: skip
            agency_id = agency.id
        heard: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        conn = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            await conn.add_listener(CHANNEL, lambda *args: heard.put_nowait(json.loads(args[-1])))
            done = await odop_sync(database_url, "fx", "set", "USD", "84.12", "--source", "RBI")
            assert done.returncode == 0, done.stderr
            message = await asyncio.wait_for(heard.get(), 30)
        finally:
            await conn.close()
        assert (message["k"], message["a"], message["v"]) == ("catalog", agency_id, [])
