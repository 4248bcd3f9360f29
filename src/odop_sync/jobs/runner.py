"""Workers that claim durable jobs and run their handlers.

A handler gets a `JobContext` and commits its own progress in small transactions, so that a job
interrupted anywhere (exception, kill -9, lost lease) resumes from its last commit when it is
claimed again. A failed attempt goes back to the queue with exponential backoff and jitter; after
`max_attempts` the job is failed for good with its last error visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.config import JobSettings
from odop_sync.db import reader_of, transaction
from odop_sync.jobs import repository
from odop_sync.metrics import JOB_RUNS, LEASES_HELD

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    job_id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    sessionmaker: async_sessionmaker[AsyncSession]
    services: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[JobContext], Coroutine[Any, Any, None]]


def backoff_seconds(attempt: int, settings: JobSettings) -> float:
    """Exponential backoff: base·2^(n-1), capped, times a random jitter factor in [0.5, 1]."""
    raw = min(settings.backoff_max_s, settings.backoff_base_s * 2.0 ** max(attempt - 1, 0))
    return raw * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security


class JobRunner:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: JobSettings,
        handlers: dict[str, Handler] | None = None,
        services: dict[str, Any] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = reader_of(sessionmaker)
        self.settings = settings
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.services = services if services is not None else {}
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def register(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    def wake(self) -> None:
        """New work was committed in this process: look now instead of at the next poll."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not all(t.done() for t in self._tasks)

    def start(self, workers: int | None = None) -> None:
        self._stopping = False
        for n in range(workers or self.settings.workers):
            self._tasks.append(asyncio.create_task(self._loop(), name=f"job-worker-{n}"))

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                ran = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job worker loop error")
                ran = False
            if not ran:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval_s)

    async def run_once(self) -> bool:
        """Claim and run one job; False when nothing was runnable."""
        # An idle poll only reads: on SQLite a claim's transaction takes the write lock, and the
        # polls of idle workers would queue with (and delay) every writer, a batch's chunks too.
        async with self.read_sessionmaker() as session:
            if not await repository.any_runnable(session, list(self.handlers)):
                return False
        async with transaction(self.sessionmaker) as session:
            job = await repository.claim(
                session, self.owner, self.settings.lease_ttl_s, list(self.handlers)
            )
            if job is None:
                return False
            ctx = JobContext(
                job_id=job.id,
                kind=job.kind,
                payload=dict(job.payload),
                attempt=job.attempts,
                sessionmaker=self.sessionmaker,
                services=self.services,
            )
            max_attempts = job.max_attempts
        await self._run(ctx, max_attempts)
        return True

    async def _run(self, ctx: JobContext, max_attempts: int) -> None:
        LEASES_HELD.labels("jobs").inc()
        try:
            await self._run_held(ctx, max_attempts)
        finally:
            LEASES_HELD.labels("jobs").dec()

    async def _run_held(self, ctx: JobContext, max_attempts: int) -> None:
        handler = self.handlers[ctx.kind]
        work: asyncio.Task[None] = asyncio.create_task(handler(ctx))
        heartbeat = asyncio.create_task(self._heartbeat(ctx.job_id, work))
        try:
            await work
        except asyncio.CancelledError:
            if self._stopping or not heartbeat.done():
                # Shutting down: leave the lease to expire; the next worker resumes the job.
                raise
            log.warning("job %s lost its lease; another worker resumes it", ctx.job_id)
            JOB_RUNS.labels(ctx.kind, "lease_lost").inc()
            return
        except Exception as exc:
            retry = ctx.attempt < max_attempts
            delay = backoff_seconds(ctx.attempt, self.settings) if retry else None
            log.exception(
                "job %s (%s) attempt %s failed%s",
                ctx.job_id,
                ctx.kind,
                ctx.attempt,
                f", retrying in {delay:.1f}s" if delay is not None else ", giving up",
            )
            async with transaction(self.sessionmaker) as session:
                await repository.fail(
                    session, ctx.job_id, self.owner, f"{type(exc).__name__}: {exc}", delay
                )
            JOB_RUNS.labels(ctx.kind, "retry" if retry else "failed").inc()
            return
        finally:
            heartbeat.cancel()
        async with transaction(self.sessionmaker) as session:
            await repository.finish(session, ctx.job_id, self.owner)
        JOB_RUNS.labels(ctx.kind, "succeeded").inc()

    async def _heartbeat(self, job_id: int, work: asyncio.Task[None]) -> None:
        while not work.done():
            await asyncio.sleep(self.settings.heartbeat_s)
            try:
                async with transaction(self.sessionmaker) as session:
                    held = await repository.renew_lease(
                        session, job_id, self.owner, self.settings.lease_ttl_s
                    )
            except Exception:
                log.exception("could not renew the lease of job %s", job_id)
                continue
            if not held:
                work.cancel()
                return
