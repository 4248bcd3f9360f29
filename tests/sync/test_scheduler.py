"""Every worker runs the same schedule; each firing of a periodic job happens in one process."""

from __future__ import annotations

import asyncio
import logging

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.config import Settings
from odop_sync.db import create_engine, create_sessionmaker
from odop_sync.sync.scheduler import PeriodicJob, Scheduler
from tests.sync.conftest import EVENT_TIMEOUT, eventually


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


class TestShutdown:
    async def test_a_running_job_is_fired_once_and_cut_short_quietly(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A firing still running when the next tick comes is left alone, and stopping cancels
        it without an error in the log (APScheduler used to log the CancelledError as 'Job ...
        raised an exception', with its traceback, at every shutdown that cut a pull short)."""
        started: list[float] = []
        cancelled = asyncio.Event()
        gate = asyncio.Event()

        async def slow() -> None:
            started.append(asyncio.get_running_loop().time())
            try:
                await gate.wait()  # never set: a pull that outlasts the ticks
            except asyncio.CancelledError:
                cancelled.set()
                raise

        scheduler = Scheduler(sessionmaker, "worker-0", [PeriodicJob("orders.pull", 0.05, slow)])
        caplog.set_level(logging.DEBUG)
        scheduler.start()
        ticks: list[int] = []  # APScheduler's own account of each tick of the schedule
        assert scheduler._scheduler is not None
        scheduler._scheduler.add_listener(
            lambda event: ticks.append(event.code), EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES
        )

        async def began() -> bool:
            return bool(started)

        async def ten_more_ticks() -> bool:
            return len(ticks) >= 11

        await eventually(began, timeout=EVENT_TIMEOUT)
        # Ten more ticks while it runs: it is not started again.
        await eventually(ten_more_ticks, timeout=EVENT_TIMEOUT)
        assert len(started) == 1
        await scheduler.stop()
        # Whatever the cancellation logs is logged once APScheduler's own tasks have ended.
        pending = [t for t in asyncio.all_tasks() if "run_coroutine_job" in repr(t.get_coro())]
        if pending:
            await asyncio.wait(pending, timeout=EVENT_TIMEOUT)
        assert cancelled.is_set()
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], [r.getMessage() for r in errors]
        assert len(started) == 1
