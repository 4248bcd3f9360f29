"""`odop-sync sandbox …`: one adapter's marketplace sandbox, served on its own."""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from typing import Annotated

import typer

app = typer.Typer(help="marketplace sandboxes", no_args_is_help=True)

_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")


def sandbox_module(slug: str) -> ModuleType:
    """The sandbox module of an installed adapter (`<adapter package>.sandbox`); for a slug no
    installed adapter claims, the sandbox shipped in `adapters/<slug>/` (a sandbox can be
    served before, or without, its adapter). BadParameter when there is none."""
    from odop_sync.adapter_sdk import discover_adapters

    adapters, broken = discover_adapters()
    cls = adapters.get(slug)
    if cls is not None:
        return importlib.import_module(cls.__module__.rsplit(".", 1)[0] + ".sandbox")
    if _SLUG.match(slug):
        try:
            return importlib.import_module(f"adapters.{slug}.sandbox")
        except ModuleNotFoundError as exc:
            if exc.name not in (f"adapters.{slug}", f"adapters.{slug}.sandbox"):
                raise
    raise typer.BadParameter(f"no adapter {slug!r} (broken: {', '.join(broken) or 'none'})")


@app.command("serve")
def sandbox_serve(
    slug: Annotated[str, typer.Argument(help="adapter slug, e.g. amazon")],
    host: str = "127.0.0.1",
    port: int = 8100,
    time_scale: Annotated[float, typer.Option(help="marketplace seconds per real second")] = 1.0,
) -> None:
    """Serve one adapter's marketplace sandbox on its own (e.g. to restart odop-sync under it)."""
    import uvicorn

    module = sandbox_module(slug)
    uvicorn.run(module.create_sandbox_app(time_scale=time_scale), host=host, port=port)
