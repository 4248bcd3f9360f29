"""`odop-sync sandbox …`: one adapter's marketplace sandbox, served on its own."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="marketplace sandboxes", no_args_is_help=True)


@app.command("serve")
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
