"""`odop-sync config …`: the settings in effect."""

from __future__ import annotations

import json

import typer

from odop_sync.config import get_settings

app = typer.Typer(help="settings", no_args_is_help=True)


@app.command("show")
def config_show() -> None:
    """Print the effective settings, secrets masked."""
    print(json.dumps(get_settings().masked(), indent=2))
