from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.kit.time import utcnow
from odop_sync.models import Job, JobStatus


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    dedupe_key: str | None = None,
    run_after: datetime | None = None,
    max_attempts: int = 8,
) -> Job | None:
    """Add a job in the caller's transaction. With a dedupe key already queued or running, the
    existing job stands and None is returned (so "sync account 7" is never queued twice)."""
    job = Job(
        kind=kind,
        payload=payload or {},
        status=JobStatus.QUEUED,
        dedupe_key=dedupe_key,
        run_after=run_after or utcnow(),
        max_attempts=max_attempts,
    )
    if dedupe_key is None:
        session.add(job)
        await session.flush()
        return job
    try:
        async with session.begin_nested():
            session.add(job)
            await session.flush()
    except IntegrityError:
        return None
    return job


def _runnable(kinds: list[str] | None) -> ColumnElement[bool]:
    now = utcnow()
    runnable = or_(
        and_(Job.status == JobStatus.QUEUED, Job.run_after <= now),
        and_(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now),
    )
    return and_(runnable, Job.kind.in_(kinds)) if kinds else runnable


async def any_runnable(session: AsyncSession, kinds: list[str] | None = None) -> bool:
    """Whether `claim` would find a job; a plain read, for a poll that must not take a lock."""
    found = await session.scalar(select(Job.id).where(_runnable(kinds)).limit(1))
    return found is not None


async def claim(
    session: AsyncSession, owner: str, lease_ttl: float, kinds: list[str] | None = None
) -> Job | None:
    """Take the next runnable job: queued and due, or running with an expired lease (its worker
    died). PostgreSQL skips rows other workers hold; SQLite's BEGIN IMMEDIATE serialises claims."""
    query = select(Job).where(_runnable(kinds)).order_by(Job.run_after, Job.id).limit(1)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job = await session.scalar(query)
    if job is None:
        return None
    job.status = JobStatus.RUNNING
    job.lease_owner = owner
    job.lease_expires_at = utcnow() + timedelta(seconds=lease_ttl)
    job.attempts += 1
    await session.flush()
    return job


async def renew_lease(session: AsyncSession, job_id: int, owner: str, lease_ttl: float) -> bool:
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.lease_owner == owner, Job.status == JobStatus.RUNNING)
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_ttl))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish(session: AsyncSession, job_id: int, owner: str) -> None:
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.lease_owner == owner)
        .values(
            status=JobStatus.SUCCEEDED,
            finished_at=utcnow(),
            lease_owner=None,
            lease_expires_at=None,
            dedupe_key=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )


async def fail(
    session: AsyncSession, job_id: int, owner: str, error: str, retry_in: float | None
) -> None:
    """Record a failed attempt: back to the queue after `retry_in` seconds, or failed for good."""
    values: dict[str, Any] = {
        "last_error": error[:4000],
        "lease_owner": None,
        "lease_expires_at": None,
    }
    if retry_in is None:
        values.update(status=JobStatus.FAILED, finished_at=utcnow(), dedupe_key=None)
    else:
        values.update(status=JobStatus.QUEUED, run_after=utcnow() + timedelta(seconds=retry_in))
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.lease_owner == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def get(session: AsyncSession, job_id: int) -> Job | None:
    return await session.get(Job, job_id)
