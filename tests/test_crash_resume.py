"""A 10,000-row batch survives kill -9 of the server mid-way: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.models import StockMovement, Variant
from tests.api.helpers import PRODUCER, item
from tests.conftest import MakeAgency, MakeKey, bearer
from tests.processes import served

ROWS = 10_000


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
        items = [item(f"K-{n:05d}", stock=n % 50) for n in range(ROWS)]
        async with served(database_url, tmp_path, timeout=60) as server:
            client = server.client
            batch_id = await server.publish(key, [PRODUCER], items)
            seen: dict[str, Any] = {}
            for _ in range(3000):
                seen = (
                    await client.get(f"/v1/batches/{batch_id}?rows=none", headers=bearer(key))
                ).json()
                if seen["counts"]["processed"] >= 1000:
                    break
                await asyncio.sleep(0.01)
            assert seen["counts"]["processed"] < ROWS, "batch finished before the kill"
            server.kill()

            await server.restart()
            deadline = time.monotonic() + 240
            while True:
                done = (
                    await client.get(f"/v1/batches/{batch_id}?rows=none", headers=bearer(key))
                ).json()
                if done["status"] == "completed":
                    break
                assert time.monotonic() < deadline, done
                await asyncio.sleep(0.2)

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
