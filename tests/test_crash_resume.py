"""A 10,000-row batch survives kill -9 of the server mid-way: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.models import StockMovement, Variant
from tests.api.helpers import PRODUCER, item
from tests.conftest import MakeAgency, MakeKey, bearer

ROOT = Path(__file__).resolve().parents[1]
ROWS = 10_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(
    database_url: str, port: int, log: Path, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ODOP_ENV": "testing",
        "ODOP_DATABASE_URL": database_url,
        "ODOP_JOBS__LEASE_TTL_S": "2",
        "ODOP_JOBS__HEARTBEAT_S": "0.5",
        "ODOP_JOBS__BATCH_CHUNK_ROWS": "100",
        **(extra_env or {}),
    }
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "odop_sync.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def _wait_ready(client: httpx.AsyncClient, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        assert proc.poll() is None, "server exited"
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("server never became ready")


@pytest.mark.slow
class TestKillDashNine:
    async def test_a_batch_resumes_after_the_server_is_killed(
        self,
        database_url: str,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sessionmaker: async_sessionmaker[AsyncSession],
        tmp_path: Path,
    ) -> None:
        await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        port = _free_port()
        log = tmp_path / "server.log"
        body = {
            "producers": [PRODUCER],
            "items": [item(f"K-{n:05d}", stock=n % 50) for n in range(ROWS)],
        }
        proc = _start_server(database_url, port, log)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                await _wait_ready(client, proc)
                r = await client.post("/v1/batches", json=body, headers=bearer(key))
                assert r.status_code == 202, r.text
                batch_id = r.json()["id"]
                seen: dict[str, Any] = {}
                for _ in range(3000):
                    seen = (
                        await client.get(f"/v1/batches/{batch_id}?rows=none", headers=bearer(key))
                    ).json()
                    if seen["counts"]["processed"] >= 1000:
                        break
                    await asyncio.sleep(0.01)
                assert seen["counts"]["processed"] < ROWS, "batch finished before the kill"
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)

            proc = _start_server(database_url, port, log)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                await _wait_ready(client, proc)
                deadline = time.monotonic() + 240
                while True:
                    done = (
                        await client.get(f"/v1/batches/{batch_id}?rows=none", headers=bearer(key))
                    ).json()
                    if done["status"] == "completed":
                        break
                    assert time.monotonic() < deadline, done
                    await asyncio.sleep(0.2)
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)

        assert done["counts"] == {
            "total": ROWS,
            "processed": ROWS,
            "created": ROWS,
            "updated": 0,
            "unchanged": 0,
            "rejected": 0,
        }
        async with sessionmaker() as session:
            variants = await session.scalar(select(func.count()).select_from(Variant))
            moved = await session.scalar(select(func.coalesce(func.sum(StockMovement.delta), 0)))
            on_hand = await session.scalar(select(func.sum(Variant.stock_on_hand)))
        assert variants == ROWS
        expected_units = sum(n % 50 for n in range(ROWS))
        assert moved == on_hand == expected_units  # no row applied twice, none lost
