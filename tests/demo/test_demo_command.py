"""`odop-sync demo` as an operator runs it: a partner key for the dashboard, and a demo sales
history the partner sees through /v1/sales/summary, written once."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.kit.time import utcnow
from odop_sync.models import ApiKey, Order, OrderLine, StockMovement
from odop_sync.orders.lines import IST
from tests.conftest import ROOT, MakeAgency, MakeKey, bearer


async def demo(database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ODOP_ENV": "testing", "ODOP_DATABASE_URL": database_url,
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "odop_sync.cli", "demo"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def keys_in(path: Path) -> dict[str, str]:
    pairs = (line.partition("=") for line in path.read_text().splitlines() if line)
    return {name: value for name, _, value in pairs}


async def last_twelve_months(client: httpx.AsyncClient, key: str) -> dict[str, Any]:
    today = utcnow().astimezone(IST).date()
    params = {
        "from": (today - timedelta(days=364)).isoformat(),
        "to": today.isoformat(),
        "group_by": "marketplace",
    }
    r = await client.get("/v1/sales/summary", params=params, headers=bearer(key))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def counts(sm: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    async with sm() as s:
        return (
            int(await s.scalar(select(func.count()).select_from(Order)) or 0),
            int(await s.scalar(select(func.count()).select_from(OrderLine)) or 0),
            int(await s.scalar(select(func.count()).select_from(StockMovement)) or 0),
        )


class TestDemoForTheDashboard:
    async def test_the_partner_key_sees_a_sales_history_written_once(
        self, database_url: str, client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path,
    ) -> None:  # fmt: skip
        first = await demo(database_url, tmp_path)
        keys_file = tmp_path / "var" / "demo-keys.env"
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
        keys = keys_in(keys_file)
        assert set(keys) == {"ODOP_DEMO_ADMIN_KEY", "ODOP_DEMO_AGENCY_KEY",
                             "ODOP_DEMO_PARTNER_KEY"}  # fmt: skip
        partner = keys["ODOP_DEMO_PARTNER_KEY"]
        assert f"partner: {partner}" in first.stdout
        movements_before_history = (await counts(sessionmaker))[2]

        body = await last_twelve_months(client, partner)
        selling = {r["marketplace"]: r["orders"] for r in body["rows"] if r["orders"] > 0}
        assert len(selling) >= 3, selling
        assert "alibaba" in selling
        totals = body["totals"]
        # About 3,000 orders over 15 months: some 2,000 or more in the last twelve.
        assert 1_500 <= totals["orders"] <= 3_500, totals
        assert totals["units_cancelled"] > 0
        assert totals["units_returned"] > 0
        assert totals["units_net"] == (
            totals["units"] - totals["units_cancelled"] - totals["units_returned"]
        )
        # Past sales: no stock moved (the catalog's own stock movements only).
        orders, lines, movements = await counts(sessionmaker)
        assert movements == movements_before_history
        assert orders >= 2_500

        second = await demo(database_url, tmp_path)
        assert partner not in second.stdout
        assert keys_in(keys_file) == keys
        assert await counts(sessionmaker) == (orders, lines, movements)
        assert await last_twelve_months(client, partner) == body

    async def test_a_partner_key_is_added_to_an_older_demo_keys_file(
        self, database_url: str, sessionmaker: async_sessionmaker[AsyncSession],
        make_agency: MakeAgency, make_key: MakeKey, tmp_path: Path,
    ) -> None:  # fmt: skip
        """A database from before partner keys: its admin key exists, so only the partner key
        is new, and it is appended to the keys file the first run wrote."""
        await make_agency("up-odop")
        admin = await make_key("admin")
        keys_file = tmp_path / "var" / "demo-keys.env"
        keys_file.parent.mkdir()
        keys_file.write_text(f"ODOP_DEMO_ADMIN_KEY={admin}\n")
        keys_file.chmod(0o600)
        await demo(database_url, tmp_path)
        keys = keys_in(keys_file)
        assert keys["ODOP_DEMO_ADMIN_KEY"] == admin
        assert set(keys) == {"ODOP_DEMO_ADMIN_KEY", "ODOP_DEMO_PARTNER_KEY"}
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
        async with sessionmaker() as s:
            names = set(await s.scalars(select(ApiKey.name)))
        assert "demo partner" in names
