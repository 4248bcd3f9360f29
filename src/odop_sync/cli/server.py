"""`odop-sync serve` and `odop-sync worker`: the API and the background workers."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from odop_sync.cli.common import console, load_settings


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

    settings = load_settings()
    uvicorn.run(
        create_app(settings, workers=workers),
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
    )


def worker() -> None:
    """Run background workers only (any number of these may share one PostgreSQL)."""
    from odop_sync.app import create_app

    settings = load_settings()
    application = create_app(settings, workers=True)

    async def main() -> None:
        async with application.router.lifespan_context(application):
            console.print(f"worker {application.state.runner.owner} running; Ctrl-C stops it")
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
