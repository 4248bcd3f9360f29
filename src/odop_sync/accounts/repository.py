"""Every query of the accounts slice: one account, an agency's accounts, storing changes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.models import MarketplaceAccount


async def account_by_id(session: AsyncSession, account_id: int) -> MarketplaceAccount | None:
    return await session.get(MarketplaceAccount, account_id)


async def accounts_of(session: AsyncSession, agency_id: int | None) -> list[MarketplaceAccount]:
    """Accounts by id; of one agency, or of all when agency_id is None."""
    query = select(MarketplaceAccount).order_by(MarketplaceAccount.id)
    if agency_id is not None:
        query = query.where(MarketplaceAccount.agency_id == agency_id)
    return list(await session.scalars(query))


async def add_account(session: AsyncSession, account: MarketplaceAccount) -> bool:
    """Store a new account; False (and nothing stored) when its agency has one of that name."""
    try:
        async with session.begin_nested():
            session.add(account)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def save_changes(session: AsyncSession) -> bool:
    """Write the changes made to loaded accounts; False (and none written) on a name clash."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        return False
    return True
