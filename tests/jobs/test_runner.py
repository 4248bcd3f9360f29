"""The durable job runner: retries with backoff, gives up visibly, and takes over dead leases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.config import JobSettings
from odop_sync.db import transaction
from odop_sync.jobs import repository
from odop_sync.jobs.runner import JobContext, JobRunner, backoff_seconds
from odop_sync.kit.time import utcnow
from odop_sync.models import Job, JobStatus

FAST = JobSettings(
    poll_interval_s=0.01, lease_ttl_s=5, heartbeat_s=1, backoff_base_s=0.0, backoff_max_s=0.0
)


async def _enqueue(sm: async_sessionmaker[AsyncSession], kind: str, **kw: object) -> int:
    async with transaction(sm) as session:
        job = await repository.enqueue(session, kind, {"n": 1}, **kw)  # type: ignore[arg-type]
        assert job is not None
        return job.id


async def _job(sm: async_sessionmaker[AsyncSession], job_id: int) -> Job:
    async with sm() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


class TestJobRunner:
    async def test_a_failing_job_is_retried_until_it_succeeds(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        calls: list[int] = []

        async def flaky(ctx: JobContext) -> None:
            calls.append(ctx.attempt)
            if ctx.attempt < 3:
                raise RuntimeError("marketplace said 503")

        runner = JobRunner(sessionmaker, FAST, {"test.flaky": flaky})
        job_id = await _enqueue(sessionmaker, "test.flaky")
        while await runner.run_once():
            pass
        job = await _job(sessionmaker, job_id)
        assert calls == [1, 2, 3]
        assert job.status is JobStatus.SUCCEEDED
        assert job.last_error is None

    async def test_a_job_that_keeps_failing_is_failed_with_its_reason(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async def broken(ctx: JobContext) -> None:
            raise ValueError("column 'sku' missing")

        runner = JobRunner(sessionmaker, FAST, {"test.broken": broken})
        job_id = await _enqueue(sessionmaker, "test.broken", max_attempts=2)
        while await runner.run_once():
            pass
        job = await _job(sessionmaker, job_id)
        assert job.status is JobStatus.FAILED
        assert job.attempts == 2
        assert job.last_error == "ValueError: column 'sku' missing"

    async def test_a_retry_waits_for_its_backoff(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async def broken(ctx: JobContext) -> None:
            raise RuntimeError("later")

        slow = FAST.model_copy(update={"backoff_base_s": 60.0, "backoff_max_s": 600.0})
        runner = JobRunner(sessionmaker, slow, {"test.later": broken})
        job_id = await _enqueue(sessionmaker, "test.later")
        assert await runner.run_once() is True
        assert await runner.run_once() is False  # not due yet
        job = await _job(sessionmaker, job_id)
        assert job.status is JobStatus.QUEUED
        assert job.run_after >= utcnow() + timedelta(seconds=25)

    async def test_a_dead_workers_job_is_taken_over_when_its_lease_expires(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        done: list[str] = []

        async def work(ctx: JobContext) -> None:
            done.append("ran")

        job_id = await _enqueue(sessionmaker, "test.work")
        async with transaction(sessionmaker) as session:  # a worker claims it, then dies
            claimed = await repository.claim(session, "dead-worker", lease_ttl=30)
            assert claimed is not None and claimed.id == job_id
        survivor = JobRunner(sessionmaker, FAST, {"test.work": work})
        assert await survivor.run_once() is False  # the lease still stands
        async with transaction(sessionmaker) as session:
            await session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(lease_expires_at=utcnow() - timedelta(seconds=1))
            )
        assert await survivor.run_once() is True
        job = await _job(sessionmaker, job_id)
        assert done == ["ran"]
        assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)

    async def test_a_dedupe_key_queues_the_work_once(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        first = await _enqueue(sessionmaker, "test.work", dedupe_key="sync:account:7")
        async with transaction(sessionmaker) as session:
            again = await repository.enqueue(session, "test.work", dedupe_key="sync:account:7")
        assert first and again is None


class TestBackoff:
    def test_backoff_grows_and_is_capped(self) -> None:
        s = JobSettings(backoff_base_s=2, backoff_max_s=60)
        assert 1 <= backoff_seconds(1, s) <= 2
        assert 8 <= backoff_seconds(4, s) <= 16
        assert 30 <= backoff_seconds(20, s) <= 60
