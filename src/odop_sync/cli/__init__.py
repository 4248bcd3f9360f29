"""`odop-sync …`: serve, worker, db, keys, import, demo, config, fx.

One module per command group; this one assembles them into the `odop-sync` command."""

from __future__ import annotations

import sys

import typer

from odop_sync.cli import adapters, config, db, demo, fx, intake, jobs, keys, sandbox, server

app = typer.Typer(help="odop-sync: one ODOP catalog, every marketplace.", no_args_is_help=True)
app.command()(server.serve)
app.command()(server.worker)
app.command("import")(intake.import_file)
app.command()(demo.demo)
app.add_typer(db.app, name="db")
app.add_typer(keys.app, name="keys")
app.add_typer(config.app, name="config")
app.add_typer(adapters.app, name="adapters")
app.add_typer(jobs.app, name="jobs")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(fx.app, name="fx")


def main() -> None:
    from odop_sync.config import ConfigError

    try:
        app()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)  # unwrapped, one line
        raise SystemExit(2) from None
