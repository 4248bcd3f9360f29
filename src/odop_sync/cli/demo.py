"""`odop-sync demo`: the demo catalog, demo API keys (admin, agency, partner), demo accounts
on the sandboxes and a demo sales history."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from odop_sync.cli.common import console, load_settings
from odop_sync.cli.intake import ensure_agency, print_summary, run_batch_inline
from odop_sync.config import Settings


def demo(
    base_url: Annotated[str | None, typer.Option(help="server URL that serves demo images")] = None,
) -> None:
    """Seed the demo ODOP catalog, accounts and sales history (idempotent) and print demo API
    keys the first time."""
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
                partner = await _demo_partner_key(session, spec["slug"])
                if partner is not None:
                    created_keys.append(("partner", partner))
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
        await _demo_history(settings, agency_id)
        return result, created_keys

    result, keys = asyncio.run(main())
    print_summary(result)
    if keys:
        keys_file = _write_keys(keys)
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


KEYS_FILE = Path("var/demo-keys.env")
PARTNER_KEY_NAME = "demo partner"


def _write_keys(keys: list[tuple[str, str]]) -> Path:
    """New admin and agency keys start the keys file afresh; a partner key alone (a database
    whose other demo keys were made before) is appended to it. Readable only by its owner."""
    KEYS_FILE.parent.mkdir(parents=True, exist_ok=True)
    fresh = any(role != "partner" for role, _ in keys)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if fresh else os.O_APPEND)
    with os.fdopen(os.open(KEYS_FILE, flags, 0o600), "w") as fh:
        fh.write("".join(f"ODOP_DEMO_{role.upper()}_KEY={key}\n" for role, key in keys))
    KEYS_FILE.chmod(0o600)
    return KEYS_FILE


async def _demo_partner_key(session: Any, agency_slug: str) -> str | None:
    """A partner key named "demo partner", granted the demo agency, unless one exists (even
    revoked: an operator's revocation stands); returns the new key."""
    from sqlalchemy import select

    from odop_sync.auth.service import create_key
    from odop_sync.models import ApiKey, Role

    exists = await session.scalar(
        select(ApiKey.id).where(ApiKey.role == Role.PARTNER, ApiKey.name == PARTNER_KEY_NAME)
    )
    if exists is not None:
        return None
    _, plaintext = await create_key(
        session, role=Role.PARTNER, name=PARTNER_KEY_NAME, grant_slugs=[agency_slug]
    )
    return str(plaintext)


async def _demo_history(settings: Settings, agency_id: int) -> None:
    """The demo sales history over the demo accounts, once (see odop_sync.demo.history)."""
    from sqlalchemy import select

    from odop_sync.db import create_engine, create_sessionmaker, transaction
    from odop_sync.demo.history import ensure_history_rates, seed_demo_history
    from odop_sync.kit.time import utcnow
    from odop_sync.models import MarketplaceAccount

    now = utcnow()
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            accounts = list(
                await session.scalars(
                    select(MarketplaceAccount)
                    .where(
                        MarketplaceAccount.agency_id == agency_id,
                        MarketplaceAccount.name.endswith(" (sandbox)"),
                    )
                    .order_by(MarketplaceAccount.id)
                )
            )
            for currency, rate in await ensure_history_rates(session, accounts, now):
                console.print(f"demo FX rate for the demo sales history: 1 {currency} = ₹{rate}")
            written = await seed_demo_history(session, agency_id, accounts, now)
        if written:
            console.print(f"demo sales history: {written:,} orders over 15 months")
    finally:
        await engine.dispose()
