"""Publish batches: durable intake, then chunked processing on the job runner.

Intake stores the batch and every row before the API answers 202. Processing takes the pending
rows in row order, a chunk at a time; each chunk's catalog changes, row results and batch counters
commit in ONE transaction. A crash therefore loses at most an uncommitted chunk, which is simply
done again when the job is claimed anew: no row is lost and none is applied twice. The queries
are in `odop_sync.batches.repository`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import anyio
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.batches import repository
from odop_sync.batches.chunking import Lookahead, gc_paused
from odop_sync.batches.conflicts import product_conflicts
from odop_sync.batches.repository import PendingRow
from odop_sync.batches.schemas import BatchCounts, BatchRead, DryRunRead, RowResult
from odop_sync.catalog.items import ItemIn, ProducerIn
from odop_sync.catalog.rules import Rules, b2b_warnings, validate_item, validate_producer
from odop_sync.catalog.service import Outcome, apply_items, upsert_producers
from odop_sync.jobs import repository as jobs
from odop_sync.kit.problems import Conflict, FieldIssue, NotFound, ValidationProblem
from odop_sync.kit.text import clean, has_nul, without_nul
from odop_sync.kit.time import utcnow
from odop_sync.metrics import BATCH_ROWS
from odop_sync.models import Batch, BatchStatus, RowStatus

PROCESS_JOB = "batches.process"


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
        otherwise (the later row wins; see `conflicts`), and on B2B terms that are allowed but
        probably not meant (a larger order costing more per unit)."""
        self.warnings = product_conflicts(self.rows, rules, self.rejected_at_intake)
        for row_no, found in b2b_warnings(self.rows, rules, self.rejected_at_intake).items():
            self.warnings.setdefault(row_no, []).extend(found)

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
        earlier = await repository.by_idempotency_key(session, agency_id, idempotency_key)
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
        await repository.add_batch(session, batch)
    except IntegrityError:
        # A concurrent request with the same key won the race; answer with its batch.
        earlier = await repository.by_idempotency_key(session, agency_id, idempotency_key or "")
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
        await repository.add_rows(session, values)
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
    batch = await repository.get_batch(session, batch_id, for_update=True)
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
    batch = await repository.get_batch(session, batch_id)
    if batch is None or batch.status is not BatchStatus.PROCESSING:
        return False
    rows, checked = await _take_rows(session, batch_id, size, ahead)
    if not rows:
        return False
    if ahead is not None:
        ahead.rows = await repository.peek_pending_rows(session, batch_id, size, rows[-1][0])
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
    await _record_outcomes(session, batch_id, rows, outcomes)
    return True


async def _take_rows(
    session: AsyncSession, batch_id: int, size: int, ahead: Lookahead | None
) -> tuple[list[PendingRow], list[ItemIn | list[FieldIssue]] | None]:
    """The chunk's rows, taken, and their validation when `ahead` did it already (else None)."""
    if ahead is not None:
        early, early_checked = await ahead.take()
        if early and early_checked is not None:
            taken = await repository.next_pending_ids(session, batch_id, size)
            if taken == [row_id for row_id, _, _ in early]:
                return early, early_checked
    return await repository.take_pending_rows(session, batch_id, size), None


async def _record_outcomes(
    session: AsyncSession, batch_id: int, rows: Sequence[PendingRow], outcomes: Sequence[Outcome]
) -> None:
    """Store each row's outcome and add them to the batch's counters and the metrics."""
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
        await repository.mark_rows(session, status, ids)
    if rejected:
        await repository.mark_rejected(session, rejected)
    await repository.add_to_counts(session, batch_id, len(rows), tally)


async def finish_if_done(session: AsyncSession, batch_id: int) -> bool:
    """Complete the batch when no row is pending; True when there is nothing left to do."""
    batch = await repository.get_batch(session, batch_id, for_update=True)
    if batch is None or batch.status is not BatchStatus.PROCESSING:
        return True
    if await repository.pending_count(session, batch_id):
        return False
    batch.status = BatchStatus.COMPLETED
    batch.finished_at = utcnow()
    return True


async def get_batch(session: AsyncSession, batch_id: int, agency_scope: int | None) -> Batch:
    batch = await repository.get_batch(session, batch_id)
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
        only = None if rows == "all" else RowStatus(rows)
        found = await repository.row_results(
            session, batch, status=only, after=after, limit=limit + 1
        )
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
    return _batch_read(batch, results, next_cursor)


def _batch_read(batch: Batch, rows: list[RowResult] | None, next_cursor: int | None) -> BatchRead:
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
        rows=rows,
        rows_next_cursor=next_cursor,
    )
