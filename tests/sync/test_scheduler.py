"""Every worker runs the same schedule; each firing of a periodic job happens in one process."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.config import Settings
from odop_sync.db import create_engine, create_sessionmaker
from odop_sync.sync.scheduler import PeriodicJob, Scheduler


class TestSingleFiring:
    async def test_concurrent_workers_fire_each_slot_once(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        ran: list[str] = []
        pools = [create_engine(settings) for _ in range(3)]
        try:
            schedulers = []
            for n, pool in enumerate(pools):

                async def job(owner: str = f"worker-{n}") -> None:
                    ran.append(owner)

                schedulers.append(
                    Scheduler(
                        create_sessionmaker(pool),
                        f"worker-{n}",
                        [PeriodicJob("sync.reconcile", 3600.0, job)],
                    )
                )
            fired = await asyncio.gather(*(s.fire("sync.reconcile") for s in schedulers))
            assert sorted(fired) == [False, False, True]
            assert len(ran) == 1
            # The same slot again: nobody fires; a forced run (`jobs run`) always does.
            assert not any(await asyncio.gather(*(s.fire("sync.reconcile") for s in schedulers)))
            assert await schedulers[0].fire("sync.reconcile", force=True)
            assert len(ran) == 2
        finally:
            for pool in pools:
                await pool.dispose()
