"""A demo sales history, so the dashboard has figures the first time `odop-sync demo` runs:
about 3,000 orders over the 15 months up to today across every demo account, with Indian
seasonality (the Diwali months and the wedding season busiest, the monsoon quietest), slow
growth, some cancellations and returns. Written with the history import
(odop_sync.orders.history): orders, lines, status history and rollups as ingest writes them,
no stock moved. Deterministic (a fixed seed; dates count back from today) and written once:
marketplace order ids start with DEMO-HIST-, and when any exists nothing is added.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.adapter_sdk import Money, OrderStatus, RemoteOrder, RemoteOrderLine
from odop_sync.demo.accounts import DEMO_RATE_SOURCE, DEMO_RATES
from odop_sync.kit.time import as_utc
from odop_sync.models import MarketplaceAccount, Order, Product, Variant
from odop_sync.orders.history import PastOrder, catalog_skus, load_history
from odop_sync.orders.lines import IST, sales_day

PREFIX = "DEMO-HIST-"
DAYS = 457  # 15 months
ORDERS = 3_000
SEED = 14
# Orders a day through the year, relative: Diwali (Oct-Nov) and the wedding season (Dec-Feb)
# busy, Holi (Mar) a little, the monsoon (Jun-Aug) quiet.
SEASON = {1: 1.15, 2: 1.1, 3: 1.05, 4: 0.8, 5: 0.75, 6: 0.65, 7: 0.6, 8: 0.75, 9: 0.95,
          10: 1.6, 11: 1.8, 12: 1.3}  # fmt: skip
# Share of the orders per marketplace (an adapter not named here: 0.2).
SHARE = {"amazon": 0.5, "flipkart": 0.38, "alibaba": 0.12}
# Wholesale: a foreign buyer pays this share of the retail price, in the account's currency.
WHOLESALE = Decimal("0.7")
S = OrderStatus
WORDS = {S.UNSHIPPED: "Unshipped", S.SHIPPED: "Shipped", S.DELIVERED: "Delivered",
         S.CANCELLED: "Cancelled", S.RETURNED: "Returned"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Item:
    sku: str
    price_paise: int
    wholesale: bool  # the product has B2B terms (sold on Alibaba.com)


async def has_demo_history(session: AsyncSession, agency_id: int) -> bool:
    found = await session.scalar(
        select(Order.id)
        .where(Order.agency_id == agency_id, Order.marketplace_order_id.startswith(PREFIX))
        .limit(1)
    )
    return found is not None


def first_day(today: date) -> date:
    return today - timedelta(days=DAYS - 1)


async def seed_demo_history(
    session: AsyncSession, agency_id: int, accounts: Sequence[MarketplaceAccount], now: datetime
) -> int:
    """Write the demo history for these accounts in the caller's transaction, unless it is
    there already; returns the number of orders written (0: there already, or nothing to sell).
    Foreign-currency orders are booked at the FX store's rate in force on their day, so the
    caller sets one from the history's first day on first (see `ensure_history_rates`)."""
    if not accounts or await has_demo_history(session, agency_id):
        return 0
    rows = await session.execute(
        select(Variant.sku, Variant.price_paise, Product.b2b.is_not(None))
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.agency_id == agency_id)
        .order_by(Variant.sku)
    )
    items = [_Item(sku, int(price), bool(b2b)) for sku, price, b2b in rows.all()]
    if not items:
        return 0
    skus = await catalog_skus(session, agency_id)
    plan = _plan(sorted(accounts, key=lambda a: a.id), items, as_utc(now))
    written = 0
    for account in sorted(accounts, key=lambda a: a.id):
        orders = plan[account.id]
        await load_history(session, account, orders, skus)
        written += len(orders)
    return written


async def ensure_history_rates(
    session: AsyncSession, accounts: Sequence[MarketplaceAccount], now: datetime
) -> list[tuple[str, Decimal]]:
    """A demo rate in force on the history's first day for every foreign currency of these
    accounts that has none then (an operator's own rates are left as they are)."""
    from odop_sync.fx import service as fx_service
    from odop_sync.fx.repository import rate_in_force

    start = first_day(sales_day(now))
    done = []
    for currency in sorted({a.currency for a in accounts if a.currency != "INR"}):
        rate = DEMO_RATES.get(currency)
        if rate is None or await rate_in_force(session, currency, start) is not None:
            continue
        await fx_service.set_rate(
            session, currency=currency, rate=rate, source=DEMO_RATE_SOURCE, valid_on=start,
            actor="cli:demo",
        )  # fmt: skip
        done.append((currency, rate))
    return done


def _plan(
    accounts: Sequence[MarketplaceAccount], items: Sequence[_Item], now: datetime
) -> dict[int, list[PastOrder]]:
    """The orders of every account up to `now`, numbered in the order they were placed."""
    rng = random.Random(SEED)  # noqa: S311 - demo figures, not secrets
    start = first_day(sales_day(now))
    weights = [_weight(start + timedelta(days=d), d) for d in range(DAYS)]
    scale = ORDERS / sum(weights)
    shares = [SHARE.get(a.adapter, 0.2) for a in accounts]
    plan: dict[int, list[PastOrder]] = {a.id: [] for a in accounts}
    number = 0
    for offset, weight in enumerate(weights):
        expected = weight * scale
        count = int(expected) + (rng.random() < expected - int(expected))
        for _ in range(count):
            number += 1
            account = rng.choices(accounts, shares)[0]
            day = start + timedelta(days=offset)
            at = datetime.combine(day, time(9), IST) + timedelta(minutes=rng.randrange(14 * 60))
            past = _order(rng, number, account, items, at.astimezone(UTC), now)
            if past is not None:
                plan[account.id].append(past)
    return plan


def _weight(day: date, offset: int) -> float:
    growth = 0.75 + 0.5 * offset / DAYS  # a third more orders a day by the end
    weekend = 1.2 if day.weekday() >= 5 else 1.0
    return SEASON[day.month] * growth * weekend


def _order(
    rng: random.Random,
    number: int,
    account: MarketplaceAccount,
    items: Sequence[_Item],
    at: datetime,
    now: datetime,
) -> PastOrder | None:
    foreign = account.currency != "INR"
    pool = [i for i in items if i.wholesale] if foreign else list(items)
    if at > now or not pool:
        return None
    picks = rng.sample(pool, min(len(pool), rng.choices([1, 2, 3], [70, 22, 8])[0]))
    fate = rng.choices(["kept", "cancelled", "returned", "part"], [86, 6, 4, 4])[0]
    lines = []
    for n, item in enumerate(picks):
        quantity = rng.randint(2, 12) if foreign else rng.choices([1, 2, 3], [75, 18, 7])[0]
        cancelled = returned = 0
        if fate == "part" and n == 0:
            if quantity == 1:
                quantity = 2
            returned = 1 if rng.random() < 0.5 else 0
            cancelled = 1 - returned
        lines.append(
            RemoteOrderLine(
                line_id=f"{n + 1}", sku=item.sku, quantity=quantity,
                unit_price=Money(amount=_price(item, account)),
                quantity_cancelled=cancelled, quantity_returned=returned,
            )
        )  # fmt: skip
    steps = _steps(fate, at, now)
    status, _, updated = steps[-1]
    return PastOrder(
        RemoteOrder(
            order_id=f"{PREFIX}{number:05d}", status=WORDS[status], canonical_status=status,
            purchased_at=at, updated_at=updated, currency=account.currency, lines=tuple(lines),
        ),
        earlier=tuple(steps[:-1]),
    )  # fmt: skip


def _price(item: _Item, account: MarketplaceAccount) -> int:
    """The unit price in the account's currency's minor unit (paise, cents)."""
    rate = DEMO_RATES.get(account.currency)
    if account.currency == "INR" or rate is None:
        return item.price_paise
    return int((item.price_paise * WHOLESALE / rate).to_integral_value(ROUND_HALF_UP))


def _steps(fate: str, at: datetime, now: datetime) -> list[tuple[OrderStatus, str, datetime]]:
    """The statuses the order went through, up to where it stands now."""
    if fate == "cancelled":
        path = [(S.UNSHIPPED, 0.0), (S.CANCELLED, 0.5)]
    else:
        path = [(S.UNSHIPPED, 0.0), (S.SHIPPED, 1.0), (S.DELIVERED, 4.0)]
        if fate == "returned":
            path.append((S.RETURNED, 12.0))
    out = [(s, WORDS[s], at + timedelta(days=d)) for s, d in path]
    return [step for step in out if step[2] <= now] or out[:1]
