"""`odop-sync keys …`: API keys and the credential encryption key."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from odop_sync.cli.common import console, load_settings

app = typer.Typer(help="API keys", no_args_is_help=True)


@app.command("create")
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

    settings = load_settings()
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


@app.command("secret")
def keys_secret() -> None:
    """Print a new random ODOP_ENCRYPTION_KEY (64 characters) for this deployment's settings.
    To rotate, put the new key first and keep the old one after a comma until every stored
    credential has been written again."""
    import secrets

    print(secrets.token_urlsafe(48))
