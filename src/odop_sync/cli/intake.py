"""`odop-sync import`: a batch file stored and processed in this process, with progress."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from odop_sync.cli.common import console, load_settings
from odop_sync.config import Settings


async def ensure_agency(
    session: Any, slug: str, name: str | None = None, state: str | None = None
) -> int:
    from odop_sync.auth.repository import agency_id_by_slug
    from odop_sync.models import Agency

    agency_id = await agency_id_by_slug(session, slug)
    if agency_id is None:
        if name is None:
            raise typer.BadParameter(f"no agency {slug!r}")
        agency = Agency(slug=slug, name=name, state=state or "Uttar Pradesh")
        session.add(agency)
        await session.flush()
        agency_id = agency.id
    return int(agency_id)


async def run_batch_inline(
    settings: Settings, agency_id: int, intake: Any, actor: str, label: str
) -> Any:
    """Store a batch and process it in this process, with a progress bar."""
    from odop_sync.batches import service
    from odop_sync.catalog.rules import Rules
    from odop_sync.db import create_engine, create_sessionmaker, transaction

    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    rules = Rules.from_settings(settings)
    intake.check_products(rules)
    try:
        async with transaction(sessionmaker) as session:
            batch, _ = await service.submit(
                session,
                agency_id=agency_id,
                intake=intake,
                idempotency_key=None,
                actor=actor,
                enqueue=False,
            )
            batch_id, total = batch.id, batch.total_rows
        async with transaction(sessionmaker) as session:
            await service.start(session, batch_id, rules)
        with Progress(
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task(label, total=total)
            done = False
            while not done:
                async with transaction(sessionmaker) as session:
                    more = await service.process_chunk(
                        session, batch_id, rules, settings.jobs.batch_chunk_rows
                    )
                async with transaction(sessionmaker) as session:
                    done = not more and await service.finish_if_done(session, batch_id)
                    batch = await service.get_batch(session, batch_id, None)
                    progress.update(task, completed=batch.processed_rows)
        async with sessionmaker() as session:
            batch = await service.get_batch(session, batch_id, None)
            return await service.read_batch(session, batch, rows="rejected", limit=100_000)
    finally:
        await engine.dispose()


def print_summary(result: Any) -> None:
    c = result.counts
    table = Table(title=f"batch {result.id}: {result.status.value}")
    for col in ("rows", "created", "updated", "unchanged", "rejected"):
        table.add_column(col, justify="right")
    table.add_row(*(str(x) for x in (c.total, c.created, c.updated, c.unchanged, c.rejected)))
    console.print(table)
    for issue in result.producer_issues:
        console.print(f"[yellow]producers: {issue.field}: {issue.message}[/yellow]")


def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    agency: Annotated[str, typer.Option(help="agency slug")],
    report: Annotated[Path | None, typer.Option(help="write rejected rows to this CSV")] = None,
) -> None:
    """Import a CSV, XLSX or JSON batch file, with a progress bar and a per-row error report."""
    from odop_sync.batches.intake import parse_sheet
    from odop_sync.batches.schemas import BatchCreate
    from odop_sync.batches.service import Intake, digest_bytes
    from odop_sync.db import create_engine, create_sessionmaker, transaction
    from odop_sync.kit.problems import ProblemError

    settings = load_settings()
    content = file.read_bytes()
    try:
        if file.suffix.lower() == ".json":
            parsed = BatchCreate.model_validate_json(content)
            intake = Intake(
                "json",
                file.name,
                parsed.producers,
                [(n + 1, r) for n, r in enumerate(parsed.items)],
                digest_bytes(b"json", content),
            )
        else:
            sheet = parse_sheet(
                content, filename=file.name, content_type=None, limits=settings.limits
            )
            intake = Intake(
                sheet.source, file.name, [], sheet.rows, digest_bytes(b"sheet", content)
            )
    except ProblemError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        for issue in exc.errors or []:
            console.print(f"  row {issue.row} {issue.field}: {issue.message}")
        raise typer.Exit(1) from None

    async def main() -> Any:
        engine = create_engine(settings)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                agency_id = await ensure_agency(session, agency)
        finally:
            await engine.dispose()
        return await run_batch_inline(settings, agency_id, intake, "cli:import", file.name)

    result = asyncio.run(main())
    print_summary(result)
    rejected = result.rows or []
    for row in rejected[:20]:
        for e in row.errors:
            console.print(f"  row {row.row} ({row.sku}) {e.field}: {e.message}")
    if len(rejected) > 20:
        console.print(f"  … and {len(rejected) - 20} more rejected rows")
    if report is not None:
        with report.open("w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh)
            writer.writerow(["row", "sku", "field", "message"])
            for row in rejected:
                for e in row.errors:
                    writer.writerow([row.row, row.sku, e.field, e.message])
        console.print(f"error report written to {report}")
    if result.counts.rejected:
        raise typer.Exit(2)
