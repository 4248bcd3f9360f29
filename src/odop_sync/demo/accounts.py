"""Demo accounts: one per installed adapter that ships a sandbox. Demo mode stands the sandbox it
mounts at /sandbox/<slug> in for the marketplace's hosts, so the demo catalog appears there after
the first sync."""

from __future__ import annotations

import importlib
import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.accounts.crypto import CredentialCipher
from odop_sync.accounts.schemas import AccountCreate
from odop_sync.accounts.service import create_account
from odop_sync.adapter_sdk import Adapter
from odop_sync.models import MarketplaceAccount, Rounding

log = logging.getLogger(__name__)


def sandbox_credentials(cls: type[Adapter]) -> dict[str, Any] | None:
    package = cls.__module__.rsplit(".", 1)[0]
    try:
        module = importlib.import_module(f"{package}.sandbox")
    except ImportError:
        return None
    factory = getattr(module, "demo_credentials", None)
    return factory() if callable(factory) else None


async def ensure_demo_accounts(
    session: AsyncSession,
    agency_id: int,
    adapters: dict[str, type[Adapter]],
    cipher: CredentialCipher,
) -> list[MarketplaceAccount]:
    """Create the missing demo accounts (idempotent: matched by name)."""
    created = []
    for slug, cls in sorted(adapters.items()):
        name = f"{cls.display_name} (sandbox)"
        exists = await session.scalar(
            select(MarketplaceAccount.id).where(
                MarketplaceAccount.agency_id == agency_id, MarketplaceAccount.name == name
            )
        )
        if exists is not None:
            continue
        credentials = sandbox_credentials(cls)
        if credentials is None:
            log.info("adapter %s has no sandbox demo credentials; no demo account", slug)
            continue
        body = AccountCreate(
            adapter=slug,
            name=name,
            credentials=credentials,
            markup_percent=Decimal(5),
            rounding=Rounding.ENDS_IN_9,
            stock_buffer=1,
        )
        created.append(
            await create_account(
                session, agency_id=agency_id, body=body, adapters=adapters, cipher=cipher
            )
        )
    return created
