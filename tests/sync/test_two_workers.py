"""Two workers (two engines, two connection pools, one database) woken for the same accounts
at the same time never sync one account at once: the lease row decides."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.adapter_sdk.sandbox import FaultKind
from odop_sync.config import Settings
from odop_sync.db import create_engine, create_sessionmaker
from odop_sync.models import ListingStatus
from odop_sync.sync.engine import SyncEngine
from tests.conftest import bearer
from tests.sync.conftest import MakeWorld, eventually


class TestTwoWorkers:
    async def test_one_account_is_never_synced_by_two_workers_at_once(
        self,
        make_world: MakeWorld,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        world = await make_world(seed=3)
        # Slow calls down (a 20 ms stall on a third of them) so that cycles overlap in time.
        world.sandbox.faults.inject(FaultKind.TIMEOUT, delay=20.0, times=None, probability=0.3)
        accounts = [
            await world.create_account(name=f"Amazon.in {n}", markup_percent=str(n))
            for n in range(3)
        ]
        held: list[tuple[float, str, str, int]] = []
        engines: list[SyncEngine] = [world.app.state.sync]
        pools = []
        for name in ("worker-b", "worker-c"):
            pool = create_engine(settings)
            pools.append(pool)
            engine = SyncEngine(
                create_sessionmaker(pool),
                settings.sync,
                world.app.state.adapters,
                world.app.state.cipher,
                transport=world.app.state.outbound_transport,
                owner=name,
            )
            engine.time_scale = world.sandbox.clock.time_scale
            engines.append(engine)
        for engine in engines:
            owner = engine.owner

            def observe(event: str, account_id: int, owner: str = owner) -> None:
                held.append((time.monotonic(), owner, event, account_id))

            engine.observers.append(observe)
            engine.start()
        try:
            skus = sorted(await world.expected(accounts[0]))[:15]
            for round_ in range(4):
                for n, sku in enumerate(skus):
                    r = await world.client.patch(
                        f"/v1/variants/{sku}",
                        json={"stock": 30 + round_ * 3 + n},
                        headers=bearer(world.key),
                    )
                    assert r.status_code == 200, r.text
                    for engine in engines:  # as NOTIFY would: every worker hears of it
                        engine.catalog_changed(world.agency_id, [])
                    await asyncio.sleep(0.01)

            async def converged() -> bool:
                for account_id in accounts:
                    rows = await world.listings(account_id)
                    if len(rows) != 79 or any(r.status is not ListingStatus.LIVE for r in rows):
                        return False
                return True

            await eventually(converged, timeout=60.0, interval=0.1)
        finally:
            for engine in engines[1:]:
                await engine.stop()
            for pool in pools:
                await pool.dispose()

        owners_seen: set[str] = set()
        busy: set[str] = set()
        for account_id in accounts:
            events = sorted(e for e in held if e[3] == account_id)
            holder: str | None = None
            for _, owner, event, _ in events:
                if event == "busy":
                    busy.add(owner)
                elif event == "lease":
                    assert holder is None, f"account {account_id}: {owner} took it from {holder}"
                    holder = owner
                    owners_seen.add(owner)
                else:
                    assert holder == owner
                    holder = None
        # The contention was real: workers found an account taken by another and backed off.
        assert busy, "no worker ever found an account busy"
        assert owners_seen
        expected: dict[str, Any] = await world.expected(accounts[2])
        remote = await world.remote()
        assert set(remote) == set(expected)
