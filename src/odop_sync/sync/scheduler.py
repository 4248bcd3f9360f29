"""Periodic work on APScheduler 3 (AsyncIOScheduler, coalesce).

Every worker process runs the same schedule, and each firing happens in one process only: the
process that moves the job's row in `schedule_marks` to the current slot runs it (a conditional
UPDATE, under a PostgreSQL advisory lock so the first-ever insert cannot race either).

APScheduler's tick only starts a firing as a task of this class's own and returns; a firing still
running when the next tick comes is left alone (one at a time per job), and shutdown cancels the
running firings quietly. Cancelled inside APScheduler's own task, every shutdown that cut a job
short logged 'Job ... raised an exception' with a CancelledError traceback. The jobs resume
where they stopped (sync leases and watermarks, order cursors stored per page).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.db import transaction
from odop_sync.kit.time import utcnow
from odop_sync.metrics import PERIODIC_FAILURES, PERIODIC_RUNS
from odop_sync.models import ScheduleMark

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval_s: float
    run: Callable[[], Awaitable[None]]
    description: str = ""


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


async def claim_slot(session: AsyncSession, name: str, interval_s: float, owner: str) -> bool:
    """True when this process is the one to fire `name` for the current slot."""
    slot = int(time.time() // max(interval_s, 0.001))
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    if postgres:
        got = await session.scalar(select(func.pg_try_advisory_xact_lock(_lock_key(name))))
        if not got:
            return False
    dialect_insert = postgresql.insert if postgres else sqlite.insert
    await session.execute(
        dialect_insert(ScheduleMark).values(name=name, slot=-1).on_conflict_do_nothing()
    )
    result = await session.execute(
        update(ScheduleMark)
        .where(ScheduleMark.name == name, ScheduleMark.slot < slot)
        .values(slot=slot, owner=owner, fired_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


class Scheduler:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        owner: str,
        jobs: list[PeriodicJob],
    ) -> None:
        self.sessionmaker = sessionmaker
        self.owner = owner
        self.jobs = {job.name: job for job in jobs}
        self._scheduler: AsyncIOScheduler | None = None
        self._running: dict[str, asyncio.Task[bool]] = {}

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1})
        for job in self.jobs.values():
            self._scheduler.add_job(
                self._tick,
                "interval",
                seconds=job.interval_s,
                args=[job.name],
                id=job.name,
                name=job.description or job.name,
                misfire_grace_time=max(1, int(job.interval_s)),
            )
        self._scheduler.start()

    async def _tick(self, name: str) -> None:
        running = self._running.get(name)
        if running is not None and not running.done():
            log.debug("periodic job %s still running; this firing is skipped", name)
            return
        self._running[name] = asyncio.ensure_future(self.fire(name))

    async def stop(self) -> None:
        """No more firings; the running ones are cancelled (they resume on the next start)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
        running = [task for task in self._running.values() if not task.done()]
        self._running.clear()
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def fire(self, name: str, *, force: bool = False) -> bool:
        """Run the job if this process wins its slot (or unconditionally with `force`)."""
        job = self.jobs[name]
        if not force:
            async with transaction(self.sessionmaker) as session:
                if not await claim_slot(session, name, job.interval_s, self.owner):
                    return False
        PERIODIC_RUNS.labels(name).inc()
        try:
            await job.run()
        except Exception:
            PERIODIC_FAILURES.labels(name).inc()
            log.exception("periodic job %s failed", name)
        return True


__all__ = ["PeriodicJob", "Scheduler", "claim_slot"]
