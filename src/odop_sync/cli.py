"""`odop-sync …`: serve, worker, db, keys, import, demo, config."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from odop_sync.config import Settings, get_settings

app = typer.Typer(help="odop-sync: one ODOP catalog, every marketplace.", no_args_is_help=True)
db_app = typer.Typer(help="database schema", no_args_is_help=True)
keys_app = typer.Typer(help="API keys", no_args_is_help=True)
config_app = typer.Typer(help="settings", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(config_app, name="config")
console = Console(stderr=True)


def _settings() -> Settings:
    from odop_sync.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def alembic_config(settings: Settings) -> Any:
    """Alembic pointed at the migrations shipped in this package (any working directory, wheel
    or checkout) and at the configured database."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "odop_sync:migrations")
    cfg.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database to the newest schema."""
    from alembic import command

    settings = _settings()
    command.upgrade(alembic_config(settings), revision)
    console.print(f"[green]database at {revision}[/green]")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[
        bool, typer.Option("--workers/--no-workers", help="run job workers here")
    ] = True,
) -> None:
    """Serve the REST API (and, unless --no-workers, the background workers)."""
    import uvicorn

    from odop_sync.app import create_app

    settings = _settings()
    uvicorn.run(
        create_app(settings, workers=workers),
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
    )


@app.command()
def worker() -> None:
    """Run background workers only (any number of these may share one PostgreSQL)."""
    from odop_sync.app import create_app

    settings = _settings()
    application = create_app(settings, workers=True)

    async def main() -> None:
        async with application.router.lifespan_context(application):
            console.print(f"worker {application.state.runner.owner} running; Ctrl-C stops it")
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin | agency | partner")],
    agency: Annotated[str | None, typer.Option(help="agency slug (agency keys)")] = None,
    grant: Annotated[list[str] | None, typer.Option(help="agency slug a partner may read")] = None,
    name: Annotated[str, typer.Option(help="what the key is for")] = "cli",
) -> None:
    """Create an API key; its secret is printed once and stored only as a digest."""
    from odop_sync.auth.service import create_key
    from odop_sync.db import create_engine, create_sessionmaker, transaction
    from odop_sync.kit.problems import ProblemError
    from odop_sync.models import Role

    settings = _settings()
    try:
        role_enum = Role(role)
    except ValueError:
        raise typer.BadParameter("role must be admin, agency or partner") from None

    async def main() -> str:
        engine = create_engine(settings)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                _, plaintext = await create_key(
                    session, role=role_enum, name=name, agency_slug=agency, grant_slugs=grant
                )
                return plaintext
        finally:
            await engine.dispose()

    try:
        plaintext = asyncio.run(main())
    except ProblemError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from None
    console.print(f"[green]{role} key created; it is shown only now:[/green]")
    print(plaintext)


adapters_app = typer.Typer(help="marketplace adapters", no_args_is_help=True)
app.add_typer(adapters_app, name="adapters")


@adapters_app.command("list")
def adapters_list() -> None:
    """Installed adapters (entry point group odop_sync.adapters), and any that are broken."""
    from odop_sync.adapter_sdk import discover_adapters

    adapters, broken = discover_adapters()
    table = Table(title="adapters")
    for col in ("slug", "name", "version", "capabilities"):
        table.add_column(col)
    for slug, cls in sorted(adapters.items()):
        caps = ", ".join(sorted(c.value for c in cls.capabilities))
        table.add_row(slug, cls.display_name, cls.version, caps)
    Console().print(table)
    for name, reason in broken.items():
        console.print(f"[red]broken: {name}: {reason}[/red]")


jobs_app = typer.Typer(help="periodic jobs: see them, run one by hand", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


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
    )
    events = CatalogEvents()
    events.subscribe(sync.catalog_changed)  # an order pulled here wakes the pushes here
    jobs, _ = periodic_work(sessionmaker, settings, sync, events, sync.owner)
    return sync, jobs


@jobs_app.command("list")
def jobs_list() -> None:
    """The periodic jobs with their cadence and last firing, and the durable job queue."""
    from sqlalchemy import func, select

    from odop_sync.db import create_engine, create_sessionmaker
    from odop_sync.models import Job, ScheduleMark

    settings = _settings()

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


@jobs_app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="a periodic job, e.g. sync.reconcile")],
) -> None:
    """Run one periodic job now, in this process, and wait until the work it started is done."""
    from odop_sync.db import create_engine

    settings = _settings()

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


@keys_app.command("secret")
def keys_secret() -> None:
    """Print a new random ODOP_ENCRYPTION_KEY (64 characters) for this deployment's settings.
    To rotate, put the new key first and keep the old one after a comma until every stored
    credential has been written again."""
    import secrets

    print(secrets.token_urlsafe(48))


@config_app.command("show")
def config_show() -> None:
    """Print the effective settings, secrets masked."""
    print(json.dumps(get_settings().masked(), indent=2))


async def _ensure_agency(
    session: Any, slug: str, name: str | None = None, state: str | None = None
) -> int:
    from sqlalchemy import select

    from odop_sync.models import Agency

    agency_id = await session.scalar(select(Agency.id).where(Agency.slug == slug))
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
    from odop_sync.batches.validation import Rules
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


def _print_summary(result: Any) -> None:
    c = result.counts
    table = Table(title=f"batch {result.id}: {result.status.value}")
    for col in ("rows", "created", "updated", "unchanged", "rejected"):
        table.add_column(col, justify="right")
    table.add_row(*(str(x) for x in (c.total, c.created, c.updated, c.unchanged, c.rejected)))
    console.print(table)
    for issue in result.producer_issues:
        console.print(f"[yellow]producers: {issue.field}: {issue.message}[/yellow]")


@app.command("import")
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

    settings = _settings()
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
                agency_id = await _ensure_agency(session, agency)
        finally:
            await engine.dispose()
        return await run_batch_inline(settings, agency_id, intake, "cli:import", file.name)

    result = asyncio.run(main())
    _print_summary(result)
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


@app.command()
def demo(
    base_url: Annotated[str | None, typer.Option(help="server URL that serves demo images")] = None,
) -> None:
    """Seed the demo ODOP catalog (idempotent) and print demo API keys the first time."""
    from sqlalchemy import func, select

    from odop_sync.batches.service import Intake, digest_bytes
    from odop_sync.db import create_engine, create_sessionmaker, transaction
    from odop_sync.demo.loader import load_demo_catalog
    from odop_sync.models import ApiKey

    settings = _settings()
    data = load_demo_catalog(base_url or settings.public_base_url)
    spec = data["agency"]

    async def main() -> tuple[Any, list[tuple[str, str]]]:
        from odop_sync.auth.service import create_key
        from odop_sync.models import Role

        engine = create_engine(settings)
        created_keys: list[tuple[str, str]] = []
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                agency_id = await _ensure_agency(
                    session, spec["slug"], spec["name"], spec.get("state")
                )
                if not await session.scalar(select(func.count()).select_from(ApiKey)):
                    _, admin = await create_key(session, role=Role.ADMIN, name="demo admin")
                    _, agency_key = await create_key(
                        session, role=Role.AGENCY, name="demo agency", agency_slug=spec["slug"]
                    )
                    created_keys = [("admin", admin), ("agency", agency_key)]
        finally:
            await engine.dispose()
        intake = Intake(
            "json",
            "demo/catalog.json",
            data["producers"],
            [(n + 1, r) for n, r in enumerate(data["items"])],
            digest_bytes(b"demo", json.dumps(data, sort_keys=True).encode()),
        )
        result = await run_batch_inline(settings, agency_id, intake, "cli:demo", "demo catalog")
        await _demo_accounts(settings, agency_id, base_url or settings.public_base_url)
        return result, created_keys

    result, keys = asyncio.run(main())
    _print_summary(result)
    if keys:
        keys_file = Path("var/demo-keys.env")
        keys_file.parent.mkdir(parents=True, exist_ok=True)
        keys_file.write_text("".join(f"ODOP_DEMO_{r.upper()}_KEY={k}\n" for r, k in keys))
        keys_file.chmod(0o600)
        console.print(f"[green]demo keys (also in {keys_file}, readable only by you):[/green]")
        for role, key in keys:
            print(f"{role}: {key}")
    if result.counts.rejected:
        console.print("[red]some demo rows were rejected[/red]")
        raise typer.Exit(1)


async def _demo_accounts(settings: Settings, agency_id: int, base_url: str) -> None:
    """Demo accounts on every sandbox that demo mode serves (idempotent)."""
    from odop_sync.accounts.crypto import CredentialCipher
    from odop_sync.adapter_sdk import discover_adapters
    from odop_sync.db import create_engine, create_sessionmaker, transaction
    from odop_sync.demo.accounts import ensure_demo_accounts

    adapters, _ = discover_adapters()
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            created = await ensure_demo_accounts(
                session, agency_id, adapters, CredentialCipher(settings.encryption_key)
            )
            for account in created:
                console.print(
                    f"demo account {account.name!r} → {base_url}/sandbox/{account.adapter}"
                )
    finally:
        await engine.dispose()


sandbox_app = typer.Typer(help="marketplace sandboxes", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("serve")
def sandbox_serve(
    slug: Annotated[str, typer.Argument(help="adapter slug, e.g. amazon")],
    host: str = "127.0.0.1",
    port: int = 8100,
    time_scale: Annotated[float, typer.Option(help="marketplace seconds per real second")] = 1.0,
) -> None:
    """Serve one adapter's marketplace sandbox on its own (e.g. to restart odop-sync under it)."""
    import importlib

    import uvicorn

    from odop_sync.adapter_sdk import discover_adapters

    adapters, broken = discover_adapters()
    cls = adapters.get(slug)
    if cls is None:
        raise typer.BadParameter(f"no adapter {slug!r} (broken: {', '.join(broken) or 'none'})")
    module = importlib.import_module(cls.__module__.rsplit(".", 1)[0] + ".sandbox")
    uvicorn.run(module.create_sandbox_app(time_scale=time_scale), host=host, port=port)


def main() -> None:
    from odop_sync.config import ConfigError

    try:
        app()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)  # unwrapped, one line
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
