"""The batches' queries: batches by id or Idempotency-Key, their rows (taken a chunk at a time,
marked with their outcome) and the per-row results read back with their variants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.db import insert_many, matches_any
from odop_sync.models import Batch, BatchRow, RowStatus, Variant
from odop_sync.models.base import table_of

ROWS = table_of(BatchRow)
APPLIED = (RowStatus.CREATED, RowStatus.UPDATED, RowStatus.UNCHANGED)

# A pending row as processing reads it: (id, row_no, data).
PendingRow = tuple[int, int, dict[str, Any]]
# A row's result: row_no, sku, status, errors, warnings, variant id.
ResultRow = Row[int, str | None, RowStatus, Any, Any, int | None]


async def get_batch(
    session: AsyncSession, batch_id: int, *, for_update: bool = False
) -> Batch | None:
    return await session.get(Batch, batch_id, with_for_update=for_update or None)


async def by_idempotency_key(session: AsyncSession, agency_id: int, key: str) -> Batch | None:
    return await session.scalar(
        select(Batch).where(Batch.agency_id == agency_id, Batch.idempotency_key == key)
    )


async def add_batch(session: AsyncSession, batch: Batch) -> None:
    """Store the batch (flushed: it has its id) in a savepoint; IntegrityError, with the
    savepoint rolled back, when its Idempotency-Key is taken."""
    async with session.begin_nested():
        session.add(batch)
        await session.flush()


async def add_rows(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    await insert_many(session, ROWS, rows)


async def list_batches(
    session: AsyncSession, agency_scope: int | None, limit: int = 50
) -> list[Batch]:
    query = select(Batch).order_by(Batch.id.desc()).limit(limit)
    if agency_scope is not None:
        query = query.where(Batch.agency_id == agency_scope)
    return list(await session.scalars(query))


async def pending_count(session: AsyncSession, batch_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(BatchRow)
            .where(BatchRow.batch_id == batch_id, BatchRow.status == RowStatus.PENDING)
        )
        or 0
    )


def _pending(batch_id: int) -> Any:
    return (ROWS.c.batch_id == batch_id) & (ROWS.c.status == RowStatus.PENDING)


def _is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def next_pending_ids(session: AsyncSession, batch_id: int, size: int) -> list[int]:
    """The ids of the next `size` pending rows, taken (PostgreSQL: FOR UPDATE SKIP LOCKED, so
    no concurrent chunk takes them too)."""
    query = select(ROWS.c.id).where(_pending(batch_id)).order_by(ROWS.c.id).limit(size)
    if _is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    return list((await session.execute(query)).scalars())


async def take_pending_rows(session: AsyncSession, batch_id: int, size: int) -> list[PendingRow]:
    """The next `size` pending rows, taken as `next_pending_ids` takes them."""
    # Core columns, not ORM attributes: the same rows without ORM bookkeeping per row.
    query = (
        select(ROWS.c.id, ROWS.c.row_no, ROWS.c.data)
        .where(_pending(batch_id))
        .order_by(ROWS.c.id)
        .limit(size)
    )
    if _is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    return [(r.id, r.row_no, r.data) for r in await session.execute(query)]


async def peek_pending_rows(
    session: AsyncSession, batch_id: int, size: int, after_id: int
) -> list[PendingRow]:
    """The `size` pending rows after row id `after_id`, read without taking them."""
    query = (
        select(ROWS.c.id, ROWS.c.row_no, ROWS.c.data)
        .where(_pending(batch_id), ROWS.c.id > after_id)
        .order_by(ROWS.c.id)
        .limit(size)
    )
    return [(r.id, r.row_no, r.data) for r in await session.execute(query)]


async def mark_rows(session: AsyncSession, status: RowStatus, row_ids: Sequence[int]) -> None:
    """Set the status of the rows (one statement)."""
    await session.execute(
        ROWS.update()
        .where(matches_any(ROWS.c.id, row_ids, session.get_bind().dialect))
        .values(status=status)
    )


async def mark_rejected(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Reject rows, each with its errors: dicts of `_id` and `errors`."""
    await session.execute(
        ROWS.update()
        .where(ROWS.c.id == bindparam("_id"))
        .values(status=RowStatus.REJECTED, errors=bindparam("errors")),
        rows,
    )


async def add_to_counts(
    session: AsyncSession, batch_id: int, processed: int, tally: Mapping[RowStatus, int]
) -> None:
    """Add a chunk's rows to the batch's counters, atomically (chunks may run at once)."""
    await session.execute(
        update(Batch)
        .where(Batch.id == batch_id)
        .values(
            processed_rows=Batch.processed_rows + processed,
            created_count=Batch.created_count + tally[RowStatus.CREATED],
            updated_count=Batch.updated_count + tally[RowStatus.UPDATED],
            unchanged_count=Batch.unchanged_count + tally[RowStatus.UNCHANGED],
            rejected_count=Batch.rejected_count + tally[RowStatus.REJECTED],
        )
        .execution_options(synchronize_session=False)
    )


async def row_results(
    session: AsyncSession, batch: Batch, *, status: RowStatus | None, after: int, limit: int
) -> Sequence[ResultRow]:
    """Up to `limit` rows after row number `after` (of one status, or all): row_no, sku,
    status, errors, warnings and the id of the variant an applied row's SKU names."""
    query = (
        select(
            BatchRow.row_no,
            BatchRow.sku,
            BatchRow.status,
            BatchRow.errors,
            BatchRow.warnings,
            Variant.id,
        )
        .outerjoin(
            Variant,
            (Variant.agency_id == batch.agency_id)
            & (Variant.sku == BatchRow.sku)
            & BatchRow.status.in_(APPLIED),
        )
        .where(BatchRow.batch_id == batch.id, BatchRow.row_no > after)
        .order_by(BatchRow.row_no)
        .limit(limit)
    )
    if status is not None:
        query = query.where(BatchRow.status == status)
    return (await session.execute(query)).all()
