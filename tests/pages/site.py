"""The demo site the page tests drive: a fresh database with `odop-sync demo` loaded into it (its
catalog, its sales history and its keys), served by `odop-sync serve` in demo mode, so the
marketplace sandboxes, the sync engine and the pages all run as `make run` has them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import _create_pg_database, _drop_pg_database, bearer, migrate
from tests.processes import ROOT, free_port, start_server, wait_ready

DEMO_SELLERS = {"amazon": "A1ODOPSANDBOX"}


@dataclass
class DemoSite:
    origin: str
    keys: dict[str, str]  # admin, agency, partner
    client: httpx.AsyncClient
    log: Path

    async def get(self, path: str, role: str = "partner", **params: Any) -> Any:
        r = await self.client.get(path, params=params, headers=bearer(self.keys[role]))
        assert r.status_code == 200, r.text
        return r.json()

    async def sandbox_listings(self, slug: str = "amazon") -> dict[str, Any]:
        r = await self.client.get(f"/sandbox/{slug}/_sandbox/state/{DEMO_SELLERS[slug]}")
        assert r.status_code == 200, r.text
        return {listing["sku"]: listing for listing in r.json()["listings"]}


def _read_keys(path: Path) -> dict[str, str]:
    keys = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        keys[name.removeprefix("ODOP_DEMO_").removesuffix("_KEY").lower()] = value
    return keys


def _demo_env(database_url: str, origin: str) -> dict[str, str]:
    return {
        "ODOP_ENV": "development",
        "ODOP_DATABASE_URL": database_url,
        "ODOP_PUBLIC_BASE_URL": origin,
        "ODOP_LOG_FORMAT": "text",
    }


@asynccontextmanager
async def demo_site(root: Path) -> AsyncIterator[DemoSite]:
    server_url = os.environ.get("ODOP_TEST_POSTGRES_URL")
    if server_url:
        database_url = await _create_pg_database(server_url)
    else:
        database_url = f"sqlite+aiosqlite:///{root / 'demo.sqlite3'}"
    await asyncio.to_thread(migrate, database_url)
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    env = _demo_env(database_url, origin)
    seeded = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "odop_sync.cli", "demo", "--base-url", origin],
        cwd=root,
        env={**os.environ, **env},
        capture_output=True,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stdout.decode() + seeded.stderr.decode()
    keys = _read_keys(root / "var" / "demo-keys.env")
    log = root / "server.log"
    # Failed pushes come back within a second (a listing pauses after three), and a sweep
    # every half second picks up what is due.
    server_env = {
        **env,
        "ODOP_SYNC__BACKOFF_BASE_S": "0.2",
        "ODOP_SYNC__BACKOFF_MAX_S": "0.5",
        "ODOP_SYNC__SWEEP_INTERVAL_S": "0.5",
        # The figures stay those of the demo history while a test compares page and API.
        "ODOP_ORDERS__ENABLED": "false",
    }
    proc = start_server(database_url, port, log, server_env)
    try:
        async with httpx.AsyncClient(base_url=origin, timeout=30) as client:
            await wait_ready(client, proc)
            yield DemoSite(origin, keys, client, log)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if server_url:
            await _drop_pg_database(server_url, database_url)


__all__ = ["ROOT", "DemoSite", "demo_site"]
