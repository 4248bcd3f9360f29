"""`odop-sync jobs …`: the periodic jobs, seen and run by hand."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from odop_sync.cli.common import console, load_settings
from odop_sync.config import Settings

app = typer.Typer(help="periodic jobs: see them, run one by hand", no_args_is_help=True)


def _periodic_work(settings: Settings, engine: Any) -> tuple[Any, list[Any]]:
    """A sync engine for this process alone (no API, no schedule) and the periodic jobs a worker
    runs, built as a worker builds them."""
    from odop_sync.accounts.crypto import CredentialCipher
    from odop_sync.adapter_sdk import discover_adapters
    from odop_sync.app import periodic_work
    from odop_sync.db import create_sessionmaker
    from odop_sync.events import CatalogEvents
    from odop_sync.kit.loopback import outbound_transport
    from odop_sync.sync.engine import SyncEngine

    adapters, _ = discover_adapters()
    sessionmaker = create_sessionmaker(engine)
    sync = SyncEngine(
        sessionmaker,
        settings.sync,
        adapters,
        CredentialCipher(settings.encryption_key),
        transport=lambda: outbound_transport(None, settings.loopback_only),
        accounts=settings.accounts,
        fx=settings.fx,
    )
    events = CatalogEvents()
    events.subscribe(sync.catalog_changed)  # an order pulled here wakes the pushes here
    jobs, _ = periodic_work(sessionmaker, settings, sync, events, sync.owner)
    return sync, jobs


@app.command("list")
def jobs_list() -> None:
    """The periodic jobs with their cadence and last firing, and the durable job queue."""
    from sqlalchemy import func, select

    from odop_sync.db import create_engine, create_sessionmaker
    from odop_sync.models import Job, ScheduleMark

    settings = load_settings()

    async def main() -> tuple[list[Any], dict[str, Any], list[Any]]:
        engine = create_engine(settings)
        try:
            _, periodic = _periodic_work(settings, engine)
            async with create_sessionmaker(engine)() as session:
                marks = {m.name: m for m in await session.scalars(select(ScheduleMark))}
                queue = (
                    await session.execute(
                        select(Job.kind, Job.status, func.count())
                        .group_by(Job.kind, Job.status)
                        .order_by(Job.kind, Job.status)
                    )
                ).all()
            return periodic, marks, list(queue)
        finally:
            await engine.dispose()

    periodic, marks, queue = asyncio.run(main())
    table = Table(title="periodic jobs (odop-sync jobs run NAME runs one now)")
    for col in ("name", "every", "last fired (UTC)", "by", "what it does"):
        table.add_column(col)
    for job in periodic:
        mark = marks.get(job.name)
        fired = mark.fired_at.strftime("%Y-%m-%d %H:%M:%S") if mark and mark.fired_at else "never"
        table.add_row(
            job.name, f"{job.interval_s:g} s", fired, mark.owner if mark else "", job.description
        )
    out = Console()
    out.print(table)
    durable = Table(title="durable job queue")
    for col in ("kind", "status", "jobs"):
        durable.add_column(col)
    for kind, status, count in queue:
        durable.add_row(kind, str(status), str(count))
    out.print(durable)


@app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="a periodic job, e.g. sync.reconcile")],
) -> None:
    """Run one periodic job now, in this process, and wait until the work it started is done."""
    from odop_sync.db import create_engine

    settings = load_settings()

    async def main() -> None:
        engine = create_engine(settings)
        sync, periodic = _periodic_work(settings, engine)
        jobs = {job.name: job for job in periodic}
        if name not in jobs:
            await engine.dispose()
            raise typer.BadParameter(f"no job {name!r}; there are: {', '.join(sorted(jobs))}")
        sync.start(sweep=False)
        try:
            with console.status(f"running {name}"):
                await jobs[name].run()
                await sync.wait_all_idle()
        finally:
            await sync.stop()
            await engine.dispose()

    asyncio.run(main())
    console.print(f"[green]{name} done[/green]")
