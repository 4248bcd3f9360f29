"""Publish batches: durable intake, then chunked processing on the job runner.

Intake stores the batch and every row before the API answers 202. Processing takes the pending
rows in row order, a chunk at a time; each chunk's catalog changes, row results and batch counters
commit in ONE transaction. A crash therefore loses at most an uncommitted chunk, which is simply
done again when the job is claimed anew: no row is lost and none is applied twice.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import anyio
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.batches.conflicts import product_conflicts
from odop_sync.batches.schemas import BatchCounts, BatchRead, DryRunRead, RowResult
from odop_sync.catalog.items import ItemIn, ProducerIn
from odop_sync.catalog.rules import Rules, validate_item, validate_producer
from odop_sync.catalog.service import Outcome, apply_items, upsert_producers
from odop_sync.db import insert_many, matches_any
from odop_sync.jobs import repository as jobs
from odop_sync.kit.problems import Conflict, FieldIssue, NotFound, ValidationProblem
from odop_sync.kit.text import clean, has_nul, without_nul
from odop_sync.kit.time import utcnow
from odop_sync.metrics import BATCH_ROWS
from odop_sync.models import Batch, BatchRow, BatchStatus, RowStatus, Variant
from odop_sync.models.base import table_of

PROCESS_JOB = "batches.process"
APPLIED = (RowStatus.CREATED, RowStatus.UPDATED, RowStatus.UNCHANGED)


class _GcPause:
    """Hold the cyclic garbage collector off while chunks are worked on.

    A chunk allocates hundreds of thousands of short-lived, acyclic containers (row dicts,
    statement parameters), which reference counting frees; but the allocations alone trigger
    collections, and full ones traverse the whole heap of the server: a sizeable share of a
    chunk's CPU time, for nothing. The collector is switched back on (if it was on) when the last
    overlapping chunk is done, and runs then as allocation next demands.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.switched_off = False

    def __enter__(self) -> None:
        if self.depth == 0 and gc.isenabled():
            gc.disable()
            self.switched_off = True
        self.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.depth -= 1
        if self.depth == 0 and self.switched_off:
            self.switched_off = False
            gc.enable()


gc_paused = _GcPause()


@dataclass
class Intake:
    """A batch as received: producers section, rows with their row numbers, and a digest.

    Rows that cannot even be stored as given (a SKU repeated in the batch, NUL characters) are
    rejected here, with their row named, and kept in a sanitised copy.
    """

    source: str
    filename: str | None
    producers: list[dict[str, Any]]
    rows: list[tuple[int, dict[str, Any]]]
    digest: str = ""
    # False when the raw body provably has no NUL (no "\u0000" escape): skips a per-row scan.
    may_contain_nul: bool = True
    rejected_at_intake: dict[int, FieldIssue] = field(default_factory=dict)
    # Row number -> warnings, stored with the row: see `check_products`.
    warnings: dict[int, list[FieldIssue]] = field(default_factory=dict)

    def check_products(self, rules: Rules) -> None:
        """Warn on each row that changes a product column an earlier row of its product set
        otherwise (the later row wins; see `conflicts`)."""
        self.warnings = product_conflicts(self.rows, rules, self.rejected_at_intake)

    def __post_init__(self) -> None:
        if has_nul(self.producers):
            raise ValidationProblem(
                "the producers section contains a NUL character",
                errors=[FieldIssue(field="producers", message="remove NUL characters")],
            )
        first_seen: dict[str, int] = {}
        for n, (row_no, data) in enumerate(self.rows):
            if not isinstance(data, dict) or (self.may_contain_nul and has_nul(data)):
                issue = (
                    "must be an object"
                    if not isinstance(data, dict)
                    else "contains a NUL character"
                )
                self.rejected_at_intake[row_no] = FieldIssue(
                    row=row_no, field=None, message=f"the row {issue}"
                )
                kept = without_nul(data) if isinstance(data, dict) else {"value": without_nul(data)}
                self.rows[n] = (row_no, cast(dict[str, Any], kept))
                continue
            sku = clean(data.get("sku"))
            if not sku:
                continue
            if sku in first_seen:
                self.rejected_at_intake[row_no] = FieldIssue(
                    row=row_no,
                    field="sku",
                    message=f"SKU {sku!r} already appears at row {first_seen[sku]}; "
                    "a batch may carry each SKU once",
                )
            else:
                first_seen[sku] = row_no


def digest_bytes(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def validate_producers(
    raw: Sequence[dict[str, Any]], rules: Rules
) -> tuple[list[ProducerIn], list[FieldIssue]]:
    valid: list[ProducerIn] = []
    issues: list[FieldIssue] = []
    for index, data in enumerate(raw):
        result = validate_producer(data, index, rules)
        if isinstance(result, list):
            issues.extend(result)
        else:
            valid.append(result)
    return valid, issues


async def submit(
    session: AsyncSession,
    *,
    agency_id: int,
    intake: Intake,
    idempotency_key: str | None,
    actor: str,
    enqueue: bool = True,
) -> tuple[Batch, bool]:
    """Store the batch, its rows and its job. Returns (batch, replayed): a replay of an earlier
    request with the same Idempotency-Key returns that batch and changes nothing."""
    if idempotency_key:
        earlier = await _by_idempotency_key(session, agency_id, idempotency_key)
        if earlier is not None:
            return _check_replay(earlier, intake), True
    batch = Batch(
        agency_id=agency_id,
        status=BatchStatus.QUEUED,
        source=intake.source,
        filename=intake.filename,
        idempotency_key=idempotency_key,
        request_digest=intake.digest,
        producers=intake.producers,
        total_rows=len(intake.rows),
        actor=actor,
    )
    try:
        async with session.begin_nested():
            session.add(batch)
            await session.flush()
    except IntegrityError:
        # A concurrent request with the same key won the race; answer with its batch.
        earlier = await _by_idempotency_key(session, agency_id, idempotency_key or "")
        if earlier is None:
            raise
        return _check_replay(earlier, intake), True

    rejected = 0
    values = []
    with gc_paused:  # 10,000s of row dicts at once; see _GcPause
        for row_no, data in intake.rows:
            dup = intake.rejected_at_intake.get(row_no)
            rejected += dup is not None
            warned = intake.warnings.get(row_no)
            values.append(
                {
                    "batch_id": batch.id,
                    "row_no": row_no,
                    "sku": clean(data.get("sku"))[:200] or None,
                    "data": data,
                    "status": RowStatus.REJECTED if dup else RowStatus.PENDING,
                    "errors": [dup.model_dump()] if dup else None,
                    "warnings": [w.model_dump() for w in warned] if warned else None,
                }
            )
        await insert_many(session, table_of(BatchRow), values)
    if rejected:
        batch.rejected_count = rejected
        batch.processed_rows = rejected
    if enqueue:  # the CLI processes its own batches in-process
        await jobs.enqueue(
            session, PROCESS_JOB, {"batch_id": batch.id}, dedupe_key=f"batch:{batch.id}"
        )
    await session.flush()
    BATCH_ROWS.labels("rejected").inc(rejected)
    return batch, False


def _check_replay(earlier: Batch, intake: Intake) -> Batch:
    if earlier.request_digest != intake.digest:
        raise Conflict(
            f"Idempotency-Key was already used for batch {earlier.id} with a different body; "
            "use a new key for a new batch"
        )
    return earlier


async def _by_idempotency_key(session: AsyncSession, agency_id: int, key: str) -> Batch | None:
    return await session.scalar(
        select(Batch).where(Batch.agency_id == agency_id, Batch.idempotency_key == key)
    )


async def dry_run(
    session: AsyncSession, *, agency_id: int, intake: Intake, rules: Rules, actor: str
) -> DryRunRead:
    """Everything a real run would do, inside a savepoint that is rolled back."""
    results: list[RowResult] = []
    async with session.begin_nested() as savepoint:
        producers, producer_issues = validate_producers(intake.producers, rules)
        if producers:
            await upsert_producers(session, agency_id, producers, actor)
        rows = [(r, d) for r, d in intake.rows if r not in intake.rejected_at_intake]
        # Every row of the batch at once: validated in a worker thread, not on the event loop.
        checked = await anyio.to_thread.run_sync(_validate_all, rows, rules)
        outcomes = await _apply_rows(session, agency_id, rows, rules, actor, "dry-run", checked)
        by_row = dict(zip((r for r, _ in rows), outcomes, strict=True))
        for row_no, data in intake.rows:
            sku = clean(data.get("sku")) or None
            if row_no in intake.rejected_at_intake:
                results.append(
                    RowResult(
                        row=row_no,
                        sku=sku,
                        status=RowStatus.REJECTED,
                        errors=[intake.rejected_at_intake[row_no]],
                    )
                )
            else:
                o = by_row[row_no]
                results.append(
                    RowResult(
                        row=row_no,
                        sku=sku,
                        status=o.status,
                        variant_id=o.variant_id,
                        errors=list(o.errors),
                        warnings=intake.warnings.get(row_no, []),
                    )
                )
        await savepoint.rollback()
    counts = _count(results)
    return DryRunRead(counts=counts, producer_issues=producer_issues, rows=results)


def _validate_all(
    rows: Sequence[tuple[int, dict[str, Any]]], rules: Rules
) -> list[ItemIn | list[FieldIssue]]:
    return [validate_item(data, row_no, rules) for row_no, data in rows]


def _count(results: Sequence[RowResult]) -> BatchCounts:
    tally = dict.fromkeys(RowStatus, 0)
    for r in results:
        tally[r.status] += 1
    return BatchCounts(
        total=len(results),
        processed=len(results) - tally[RowStatus.PENDING],
        created=tally[RowStatus.CREATED],
        updated=tally[RowStatus.UPDATED],
        unchanged=tally[RowStatus.UNCHANGED],
        rejected=tally[RowStatus.REJECTED],
    )


async def _apply_rows(
    session: AsyncSession,
    agency_id: int,
    rows: Sequence[tuple[int, dict[str, Any]]],
    rules: Rules,
    actor: str,
    source_ref: str,
    checked: Sequence[ItemIn | list[FieldIssue]] | None = None,
) -> list[Outcome]:
    """Validate (unless `checked` holds the rows' validation already) and apply the rows."""
    if checked is None:
        checked = [validate_item(data, row_no, rules) for row_no, data in rows]
    outcomes: list[Outcome | None] = [None] * len(rows)
    valid: list[ItemIn] = []
    positions: list[int] = []
    for n, result in enumerate(checked):
        if isinstance(result, list):
            outcomes[n] = Outcome(RowStatus.REJECTED, errors=tuple(result))
        else:
            valid.append(result)
            positions.append(n)
    if valid:
        applied = await apply_items(session, agency_id, valid, actor=actor, source_ref=source_ref)
        for n, outcome in zip(positions, applied, strict=True):
            outcomes[n] = outcome
    return [o if o is not None else Outcome(RowStatus.REJECTED) for o in outcomes]


async def start(session: AsyncSession, batch_id: int, rules: Rules) -> Batch | None:
    """First step of processing: apply the producers section once, mark the batch processing."""
    batch = await session.get(Batch, batch_id, with_for_update=True)
    if batch is None or batch.status in (BatchStatus.COMPLETED, BatchStatus.FAILED):
        return None
    if batch.status is BatchStatus.QUEUED:
        producers, issues = validate_producers(batch.producers, rules)
        if producers:
            await upsert_producers(session, batch.agency_id, producers, batch.actor or "batch")
        batch.producer_issues = [i.model_dump() for i in issues] or None
        batch.status = BatchStatus.PROCESSING
        batch.started_at = utcnow()
    return batch


@dataclass
class Lookahead:
    """The rows that come after a chunk, read in that chunk's transaction and validated by a task
    that runs while the chunk's statements and COMMIT are in the driver's thread (validation
    needs no database; SQLite works with the GIL released). The next chunk uses them only if
    they are still exactly the next pending rows; otherwise it reads and validates afresh.
    A row's data never changes once stored, so a validation done ahead is the one it would do."""

    rows: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)  # id, row_no, data
    checked: list[ItemIn | list[FieldIssue]] | None = None
    task: asyncio.Task[None] | None = None

    def start(self, rules: Rules) -> None:
        self.task = asyncio.create_task(self._validate(rules))

    async def _validate(self, rules: Rules) -> None:
        checked: list[ItemIn | list[FieldIssue]] = []
        for n, (_, row_no, data) in enumerate(self.rows, 1):
            checked.append(validate_item(data, row_no, rules))
            if n % 50 == 0:
                await asyncio.sleep(0)  # let the chunk's next statement go to the driver
        self.checked = checked

    async def take(self) -> tuple[list[tuple[int, int, dict[str, Any]]], list[Any] | None]:
        """The rows read ahead and their validation (None if it did not finish), then empty."""
        if self.task is not None:
            try:
                await self.task
            finally:
                self.task = None
        rows, checked = self.rows, self.checked
        self.rows, self.checked = [], None
        return rows, checked

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None


async def process_chunk(
    session: AsyncSession,
    batch_id: int,
    rules: Rules,
    size: int,
    *,
    ahead: Lookahead | None = None,
) -> bool:
    """Apply the next `size` pending rows; False when none were left to take.

    Several chunks of one batch may run at once (PostgreSQL): each takes its rows with
    FOR UPDATE SKIP LOCKED, so no row is taken twice, and adds to the counters atomically.
    The batch is completed by `finish_if_done`, never here.

    With `ahead` (one chunk at a time only): rows validated ahead are used when they are the
    rows this chunk takes, and the rows after this chunk are read into it for the next one.
    """
    batch = await session.get(Batch, batch_id)
    if batch is None or batch.status is not BatchStatus.PROCESSING:
        return False
    rows_table = table_of(BatchRow)
    dialect = session.get_bind().dialect
    pending = (rows_table.c.batch_id == batch_id) & (rows_table.c.status == RowStatus.PENDING)
    rows: list[tuple[int, int, dict[str, Any]]] | None = None
    checked: list[ItemIn | list[FieldIssue]] | None = None
    if ahead is not None:
        early, early_checked = await ahead.take()
        if early and early_checked is not None:
            next_ids = select(rows_table.c.id).where(pending).order_by(rows_table.c.id).limit(size)
            if dialect.name == "postgresql":
                next_ids = next_ids.with_for_update(skip_locked=True)
            taken = list((await session.execute(next_ids)).scalars())
            if taken == [row_id for row_id, _, _ in early]:
                rows, checked = early, early_checked
    if rows is None:
        # Core columns, not ORM attributes: the same rows without ORM bookkeeping per row.
        query = (
            select(rows_table.c.id, rows_table.c.row_no, rows_table.c.data)
            .where(pending)
            .order_by(rows_table.c.id)
            .limit(size)
        )
        if dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = [(r.id, r.row_no, r.data) for r in await session.execute(query)]
    if not rows:
        return False
    if ahead is not None:
        after = (
            select(rows_table.c.id, rows_table.c.row_no, rows_table.c.data)
            .where(pending, rows_table.c.id > rows[-1][0])
            .order_by(rows_table.c.id)
            .limit(size)
        )
        ahead.rows = [(r.id, r.row_no, r.data) for r in await session.execute(after)]
        ahead.start(rules)
    outcomes = await _apply_rows(
        session,
        batch.agency_id,
        [(row_no, data) for _, row_no, data in rows],
        rules,
        batch.actor or "batch",
        f"batch:{batch.id}",
        checked,
    )
    # Applied rows are marked with one statement per outcome; only rejected rows carry their
    # own errors. (The variant of an applied row is found by SKU when results are read.)
    applied: dict[RowStatus, list[int]] = {}
    rejected: list[dict[str, Any]] = []
    tally = dict.fromkeys(RowStatus, 0)
    for (row_id, _, _), outcome in zip(rows, outcomes, strict=True):
        tally[outcome.status] += 1
        if outcome.status is RowStatus.REJECTED:
            rejected.append({"_id": row_id, "errors": [e.model_dump() for e in outcome.errors]})
        else:
            applied.setdefault(outcome.status, []).append(row_id)
    for status, count in tally.items():
        if count:
            BATCH_ROWS.labels(status.value).inc(count)
    for status, ids in applied.items():
        await session.execute(
            rows_table.update()
            .where(matches_any(rows_table.c.id, ids, dialect))
            .values(status=status)
        )
    if rejected:
        await session.execute(
            rows_table.update()
            .where(rows_table.c.id == bindparam("_id"))
            .values(status=RowStatus.REJECTED, errors=bindparam("errors")),
            rejected,
        )
    await session.execute(
        update(Batch)
        .where(Batch.id == batch_id)
        .values(
            processed_rows=Batch.processed_rows + len(rows),
            created_count=Batch.created_count + tally[RowStatus.CREATED],
            updated_count=Batch.updated_count + tally[RowStatus.UPDATED],
            unchanged_count=Batch.unchanged_count + tally[RowStatus.UNCHANGED],
            rejected_count=Batch.rejected_count + tally[RowStatus.REJECTED],
        )
        .execution_options(synchronize_session=False)
    )
    return True


async def finish_if_done(session: AsyncSession, batch_id: int) -> bool:
    """Complete the batch when no row is pending; True when there is nothing left to do."""
    batch = await session.get(Batch, batch_id, with_for_update=True)
    if batch is None or batch.status is not BatchStatus.PROCESSING:
        return True
    if await pending_count(session, batch_id):
        return False
    batch.status = BatchStatus.COMPLETED
    batch.finished_at = utcnow()
    return True


async def get_batch(session: AsyncSession, batch_id: int, agency_scope: int | None) -> Batch:
    batch = await session.get(Batch, batch_id)
    if batch is None or (agency_scope is not None and batch.agency_id != agency_scope):
        raise NotFound(f"no batch {batch_id}")
    return batch


async def read_batch(
    session: AsyncSession,
    batch: Batch,
    *,
    rows: str | None,
    after: int = 0,
    limit: int = 1000,
) -> BatchRead:
    """The batch with its counts; per-row results when asked (?rows=all|rejected|…)."""
    results: list[RowResult] | None = None
    next_cursor: int | None = None
    if rows:
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
            .limit(limit + 1)
        )
        if rows != "all":
            query = query.where(BatchRow.status == RowStatus(rows))
        found = (await session.execute(query)).all()
        if len(found) > limit:
            found = found[:limit]
            next_cursor = found[-1].row_no
        results = [
            RowResult(
                row=row_no,
                sku=sku,
                status=status,
                variant_id=variant_id,
                errors=[FieldIssue(**e) for e in (errors or [])],
                warnings=[FieldIssue(**w) for w in (warnings or [])],
            )
            for row_no, sku, status, errors, warnings, variant_id in found
        ]
    return BatchRead(
        id=batch.id,
        agency_id=batch.agency_id,
        status=batch.status,
        source=batch.source,
        filename=batch.filename,
        idempotency_key=batch.idempotency_key,
        counts=BatchCounts(
            total=batch.total_rows,
            processed=batch.processed_rows,
            created=batch.created_count,
            updated=batch.updated_count,
            unchanged=batch.unchanged_count,
            rejected=batch.rejected_count,
        ),
        producer_issues=[FieldIssue(**i) for i in (batch.producer_issues or [])],
        error=batch.error,
        created_at=batch.created_at,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
        rows=results,
        rows_next_cursor=next_cursor,
    )


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
