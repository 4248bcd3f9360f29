"""What every command shares: the console it reports on and the settings it runs with."""

from __future__ import annotations

from rich.console import Console

from odop_sync.config import Settings, get_settings

console = Console(stderr=True)


def load_settings() -> Settings:
    from odop_sync.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings
