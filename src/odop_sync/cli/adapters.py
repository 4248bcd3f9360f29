"""`odop-sync adapters …`: the installed marketplace adapters."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from odop_sync.cli.common import console

app = typer.Typer(help="marketplace adapters", no_args_is_help=True)


@app.command("list")
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
