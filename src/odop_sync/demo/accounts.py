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


# Demo mode's foreign-currency accounts (Alibaba.com in USD) need a rate in force, or their
# listings wait for one. The figure is the example, labelled as what it is: no market
# rate. An operator's own rate (any other source) is never replaced.
DEMO_RATES = {"USD": Decimal("84.12")}
DEMO_RATE_SOURCE = "demo (not a market rate)"


async def ensure_demo_rates(session: AsyncSession, max_age_days: int) -> list[tuple[str, Decimal]]:
    """Set today's demo rate for every currency a demo account sells in that has no usable
    rate (missing or stale); returns what was set."""
    from odop_sync.fx import service as fx_service
    from odop_sync.fx.repository import quote
    from odop_sync.kit.time import utcnow

    today = utcnow().date()
    currencies = await session.scalars(
        select(MarketplaceAccount.currency).where(MarketplaceAccount.currency != "INR").distinct()
    )
    done = []
    for currency in sorted(set(currencies)):
        rate = DEMO_RATES.get(currency)
        if rate is None or (await quote(session, currency, today, max_age_days)).usable:
            continue
        await fx_service.set_rate(
            session,
            currency=currency,
            rate=rate,
            source=DEMO_RATE_SOURCE,
            valid_on=today,
            actor="cli:demo",
        )
        done.append((currency, rate))
    return done
