"""`odop-sync db …`: the database schema."""

from __future__ import annotations

from typing import Any

import typer

from odop_sync.cli.common import console, load_settings
from odop_sync.config import Settings

app = typer.Typer(help="database schema", no_args_is_help=True)


def alembic_config(settings: Settings) -> Any:
    """Alembic pointed at the migrations shipped in this package (any working directory, wheel
    or checkout) and at the configured database."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "odop_sync:migrations")
    cfg.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


@app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database to the newest schema."""
    from alembic import command

    settings = load_settings()
    command.upgrade(alembic_config(settings), revision)
    console.print(f"[green]database at {revision}[/green]")
