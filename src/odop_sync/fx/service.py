"""Setting and reading FX rates. Setting one prices the orders in that currency that were
waiting for a rate, in the same transaction; the accounts selling in it re-project on their next
pass (their engine compares the quote in force with the one it last projected with)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.fx import repository as repo
from odop_sync.fx.rates import (
    FIRST_DAY,
    FxQuote,
    currency_problem,
    format_rate,
    rate_problem,
)
from odop_sync.fx.schemas import FxRateList, FxRateRead, FxRateSet, InForceRead
from odop_sync.kit.problems import FieldIssue, ValidationProblem
from odop_sync.kit.time import utcnow
from odop_sync.models import AuditRecord, FxRate
from odop_sync.orders.booking import price_waiting_orders


@dataclass(frozen=True, slots=True)
class CheckedRate:
    currency: str
    rate: Decimal
    source: str
    valid_on: date


def check_rate(
    currency: str, rate: Decimal | str, source: str, valid_on: date | None, today: date
) -> CheckedRate:
    """The rate as stored, or a ValidationProblem naming every field that is wrong."""
    issues: list[FieldIssue] = []
    code = currency.strip().upper()
    if problem := currency_problem(code):
        issues.append(FieldIssue(field="currency", message=f"{currency!r} {problem}"))
    try:
        value = Decimal(str(rate).strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if problem := rate_problem(value):
        issues.append(FieldIssue(field="rate", message=f"{rate} {problem}"))
    name = " ".join(source.split())
    if not name or len(name) > 40 or not name.isprintable():
        issues.append(
            FieldIssue(field="source", message="must be 1 to 40 characters, e.g. RBI or SBI TT")
        )
    day = valid_on or today
    if day < FIRST_DAY or day > today + timedelta(days=1):
        issues.append(
            FieldIssue(
                field="valid_on",
                message=f"{day} is not a day a rate can be set for: from {FIRST_DAY} to "
                f"tomorrow ({today + timedelta(days=1)})",
            )
        )
    if issues:
        raise ValidationProblem("the rate cannot be stored", errors=issues)
    return CheckedRate(code, value, name, day)


def rate_read(row: FxRate) -> FxRateRead:
    return FxRateRead(
        id=row.id,
        currency=row.currency,
        rate=format_rate(Decimal(row.rate)),
        source=row.source,
        valid_on=row.valid_on,
        created_at=row.created_at,
        created_by=row.created_by,
    )


@dataclass(frozen=True, slots=True)
class SetResult:
    read: FxRateSet
    agencies: list[int]  # whose accounts sell in the currency: wake them


def _snapshot(row: FxRate) -> dict[str, Any]:
    return {
        "currency": row.currency,
        "rate": format_rate(Decimal(row.rate)),
        "source": row.source,
        "valid_on": row.valid_on.isoformat(),
        "created_by": row.created_by,
    }


async def set_rate(
    session: AsyncSession,
    *,
    currency: str,
    rate: Decimal | str,
    source: str,
    valid_on: date | None,
    actor: str,
) -> SetResult:
    """Store a rate (or replace the one of the same currency, date and source), audited, and
    price the orders that waited for one. In the caller's transaction."""
    now = utcnow()
    checked = check_rate(currency, rate, source, valid_on, now.date())
    row = await repo.find_rate(session, checked.currency, checked.valid_on, checked.source)
    fresh: FxRate | None = None
    if row is None:
        fresh = FxRate(
            currency=checked.currency,
            rate=checked.rate,
            source=checked.source,
            valid_on=checked.valid_on,
            created_at=now,
            created_by=actor[:100],
        )
        # Another transaction may store the same key first: then this one replaces it.
        stored = await repo.add_rate(session, fresh)
        row = (
            fresh
            if stored
            else await repo.find_rate(session, checked.currency, checked.valid_on, checked.source)
        )
        if row is None:  # pragma: no cover - the unique key said it exists
            raise AssertionError("a rate reported stored is not there")
    before = None
    if row is not fresh:  # the same currency, date and source: replaced
        before = _snapshot(row)
        row.rate, row.created_at, row.created_by = checked.rate, now, actor[:100]
        await session.flush()
    session.add(
        AuditRecord(
            at=now,
            actor=actor[:100],
            agency_id=None,
            entity="fx_rate",
            entity_id=row.id,
            action="create" if before is None else "update",
            before=before,
            after=_snapshot(row),
        )
    )
    priced = await price_waiting_orders(session, checked.currency)
    agencies = await repo.agencies_selling_in(session, checked.currency)
    read = FxRateSet(
        **rate_read(row).model_dump(),
        replaced=None if before is None else str(before["rate"]),
        orders_priced=priced,
    )
    return SetResult(read, agencies)


async def list_rates(
    session: AsyncSession, *, currency: str | None, limit: int, max_age_days: int
) -> FxRateList:
    """Stored rates (newest first) and, per currency, the one in force today."""
    code = None if currency is None else currency.strip().upper()
    rows = await repo.list_rates(session, currency=code, limit=limit)
    today = utcnow().date()
    in_force = []
    for each in [code] if code else await repo.currencies(session):
        current = await repo.rate_in_force(session, each, today)
        used = None if current is None else repo.rate_used(current)
        hold = FxQuote(each, today, used, max_age_days).hold
        in_force.append(
            InForceRead(
                currency=each,
                rate=None if current is None else rate_read(current),
                fresh=hold is None,
                held_reason=None if hold is None else hold.reason,
            )
        )
    return FxRateList(items=[rate_read(r) for r in rows], in_force=in_force)
