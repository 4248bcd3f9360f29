"""Every query of the FX slice: the rate in force on a day, the stored rates, storing one."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.fx.rates import FxQuote, RateUsed
from odop_sync.models import FxRate, MarketplaceAccount


def _newest_first() -> tuple[object, ...]:
    # The newest valid_on; on one date, the rate entered last.
    return (FxRate.valid_on.desc(), FxRate.created_at.desc(), FxRate.id.desc())


async def rate_in_force(session: AsyncSession, currency: str, day: date) -> FxRate | None:
    """The rate of `currency` in force on `day`: the newest valid_on on or before it."""
    query = (
        select(FxRate)
        .where(FxRate.currency == currency, FxRate.valid_on <= day)
        .order_by(*_newest_first())  # type: ignore[arg-type]
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def rates_in_force(
    session: AsyncSession, currency: str, days: Collection[date]
) -> dict[date, FxRate | None]:
    """The rate in force on each of these days (one query a distinct day)."""
    return {day: await rate_in_force(session, currency, day) for day in sorted(set(days))}


async def find_rate(
    session: AsyncSession, currency: str, valid_on: date, source: str
) -> FxRate | None:
    query = select(FxRate).where(
        FxRate.currency == currency, FxRate.valid_on == valid_on, FxRate.source == source
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def add_rate(session: AsyncSession, rate: FxRate) -> bool:
    """Store a new rate; False (nothing stored) when another transaction stored that
    (currency, valid_on, source) first."""
    try:
        async with session.begin_nested():
            session.add(rate)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def list_rates(
    session: AsyncSession, *, currency: str | None = None, limit: int = 100
) -> list[FxRate]:
    """Stored rates, newest valid_on first."""
    query = select(FxRate).order_by(*_newest_first()).limit(limit)  # type: ignore[arg-type]
    if currency is not None:
        query = query.where(FxRate.currency == currency)
    return list(await session.scalars(query))


async def currencies(session: AsyncSession) -> list[str]:
    """Every currency the store has a rate of."""
    return list(await session.scalars(select(FxRate.currency).distinct().order_by(FxRate.currency)))


async def agencies_selling_in(session: AsyncSession, currency: str) -> list[int]:
    """The agencies with an enabled account that prices in `currency`."""
    query = (
        select(MarketplaceAccount.agency_id)
        .where(MarketplaceAccount.currency == currency, MarketplaceAccount.enabled.is_(True))
        .distinct()
        .order_by(MarketplaceAccount.agency_id)
    )
    return list(await session.scalars(query))


def rate_used(row: FxRate) -> RateUsed:
    return RateUsed(row.currency, Decimal(row.rate), row.source, row.valid_on)


async def quote(session: AsyncSession, currency: str, day: date, max_age_days: int) -> FxQuote:
    """The rate of `currency` in force on `day`, with the freshness rule to judge it by."""
    row = await rate_in_force(session, currency, day)
    return FxQuote(currency, day, None if row is None else rate_used(row), max_age_days)
