"""`odop-sync demo`: the demo catalog, demo API keys and demo accounts on the sandboxes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from odop_sync.cli.common import console, load_settings
from odop_sync.cli.intake import ensure_agency, print_summary, run_batch_inline
from odop_sync.config import Settings


def demo(
    base_url: Annotated[str | None, typer.Option(help="server URL that serves demo images")] = None,
) -> None:
    """Seed the demo ODOP catalog (idempotent) and print demo API keys the first time."""
    from sqlalchemy import func, select

    from odop_sync.batches.service import Intake, digest_bytes
    from odop_sync.db import create_engine, create_sessionmaker, transaction
    from odop_sync.demo.loader import load_demo_catalog
    from odop_sync.models import ApiKey

    settings = load_settings()
    data = load_demo_catalog(base_url or settings.public_base_url)
    spec = data["agency"]

    async def main() -> tuple[Any, list[tuple[str, str]]]:
        from odop_sync.auth.service import create_key
        from odop_sync.models import Role

        engine = create_engine(settings)
        created_keys: list[tuple[str, str]] = []
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                agency_id = await ensure_agency(
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
    print_summary(result)
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
    from odop_sync.demo.accounts import DEMO_RATE_SOURCE, ensure_demo_accounts, ensure_demo_rates

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
            for currency, rate in await ensure_demo_rates(session, settings.fx.max_age_days):
                console.print(
                    f"demo FX rate: 1 {currency} = ₹{rate} ({DEMO_RATE_SOURCE}); "
                    f"set a real one with `odop-sync fx set {currency} <rate> --source RBI`"
                )
    finally:
        await engine.dispose()
