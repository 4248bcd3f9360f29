"""Accounts that cannot work wait quietly.

When the marketplace refuses an account's credentials (or its stored configuration cannot be
used), the reason, since when, the consecutive failures and the time of the next attempt are
stored on the account. Until that time neither the sync engine nor the order pull calls the
marketplace for it; each further failure doubles the wait (`[accounts]` settings). A successful
call ends the problem, and so does any change to the account (new credentials, re-enabling it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.config import AccountSettings
from odop_sync.kit.time import as_utc, utcnow
from odop_sync.models import MarketplaceAccount

CLEARED: dict[str, Any] = {
    "problem": None,
    "problem_since": None,
    "problem_failures": 0,
    "problem_retry_at": None,
}


def waiting(account: MarketplaceAccount, now: datetime | None = None) -> bool:
    """Whether the account must not call its marketplace now."""
    if account.problem is None:
        return False
    retry_at = account.problem_retry_at
    return retry_at is None or as_utc(retry_at) > (now or utcnow())


def ready(now: datetime) -> ColumnElement[bool]:
    """The SQL form of `not waiting(account, now)`."""
    return or_(
        MarketplaceAccount.problem.is_(None),
        and_(
            MarketplaceAccount.problem_retry_at.is_not(None),
            MarketplaceAccount.problem_retry_at <= now,
        ),
    )


def delay(failures: int, settings: AccountSettings) -> timedelta:
    """The wait after the `failures`-th failure in a row: base, 2 × base, 4 × base … up to max."""
    base, cap = settings.problem_backoff_base_s, settings.problem_backoff_max_s
    return timedelta(seconds=min(cap, base * 2.0 ** max(0, failures - 1)))


async def record(
    session: AsyncSession, account_id: int, reason: str, settings: AccountSettings
) -> datetime | None:
    """One more failure of the account: returns the time of its next attempt (None when the
    account is gone)."""
    row = (
        await session.execute(
            select(MarketplaceAccount.problem_since, MarketplaceAccount.problem_failures).where(
                MarketplaceAccount.id == account_id
            )
        )
    ).first()
    if row is None:
        return None
    now = utcnow()
    since, failures = row
    failures = (failures or 0) + 1
    retry_at = now + delay(failures, settings)
    await session.execute(
        update(MarketplaceAccount)
        .where(MarketplaceAccount.id == account_id)
        .values(
            problem=reason[:500],
            problem_since=since or now,
            problem_failures=failures,
            problem_retry_at=retry_at,
        )
        .execution_options(synchronize_session=False)
    )
    return retry_at


async def clear(session: AsyncSession, account_id: int) -> None:
    """The account works again (a call succeeded)."""
    await session.execute(
        update(MarketplaceAccount)
        .where(MarketplaceAccount.id == account_id, MarketplaceAccount.problem.is_not(None))
        .values(**CLEARED)
        .execution_options(synchronize_session=False)
    )


__all__ = ["CLEARED", "clear", "delay", "ready", "record", "waiting"]
