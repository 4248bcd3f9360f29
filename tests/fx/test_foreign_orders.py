"""Orders in US dollars keep the INR rate they were booked at: the marketplace's own, else the FX
store's rate in force on their purchase day (any age: it is history). One with no rate at all is
kept, says why, and stays out of the INR sales until a rate is set, which prices it at once.

Amounts by hand: a unit of US$21.99 is 2199 cents; at 84.12 INR per USD that is 2199 × 84.12 =
184,979.88 paise → ₹1,849.80 (half up), two units ₹3,699.60."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.adapter_sdk import Money, OrderStatus, RemoteOrder, RemoteOrderLine
from odop_sync.orders.lines import sales_day
from tests.conftest import MakeKey, bearer
from tests.orders.helpers import T0, Shop, ingest_page, make_shop

DAY = "2025-11-03"  # T0 (06:00 UTC) is this day in India too


@pytest.fixture
async def shop(sessionmaker: async_sessionmaker[AsyncSession]) -> Shop:
    return await make_shop(sessionmaker)


def usd_order(
    order_id: str,
    *,
    inr_rate: str | None = None,
    status: OrderStatus = OrderStatus.UNSHIPPED,
    updated_minutes: int = 0,
) -> RemoteOrder:
    return RemoteOrder(
        order_id=order_id,
        status=status.value.upper(),
        canonical_status=status,
        purchased_at=T0,
        updated_at=T0 + timedelta(minutes=updated_minutes),
        currency="USD",
        inr_rate=None if inr_rate is None else Decimal(inr_rate),
        lines=(
            RemoteOrderLine(
                line_id="L1",
                sku="BHD-RUG-RED",
                quantity=2,
                unit_price=Money(amount=2199, currency="USD"),
            ),
        ),
    )


async def set_rate(
    client: httpx.AsyncClient, admin: str, rate: str, valid_on: str, source: str = "RBI"
) -> dict[str, Any]:
    body = {"currency": "USD", "rate": rate, "source": source, "valid_on": valid_on}
    r = await client.post("/v1/fx/rates", json=body, headers=bearer(admin))
    assert r.status_code in (200, 201), r.text
    out: dict[str, Any] = r.json()
    return out


async def the_order(client: httpx.AsyncClient, key: str) -> dict[str, Any]:
    listed = (await client.get("/v1/orders", headers=bearer(key))).json()["items"]
    assert len(listed) == 1, listed
    r = await client.get(f"/v1/orders/{listed[0]['id']}", headers=bearer(key))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def sales(client: httpx.AsyncClient, key: str) -> tuple[int, str, str, int]:
    r = await client.get("/v1/sales/summary", params={"from": DAY, "to": DAY}, headers=bearer(key))
    assert r.status_code == 200, r.text
    t = r.json()["totals"]
    return t["units"], t["gross"], t["net"], t["orders"]


def booked(body: dict[str, Any]) -> tuple[Decimal | None, str | None, str | None]:
    rate = body["inr_rate"]
    return (None if rate is None else Decimal(rate)), body["inr_rate_source"], body["inr_rate_date"]


class TestBookedRate:
    async def test_the_marketplaces_own_rate_wins(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        key, admin = await make_key("agency", "up-odop"), await make_key("admin")
        await set_rate(client, admin, "84.12", "2025-11-01")
        await ingest_page(sessionmaker, shop.amazon, usd_order("US-1", inr_rate="84.00"))
        body = await the_order(client, key)
        assert booked(body) == (Decimal("84"), "marketplace", DAY)
        assert body["inr_rate_missing"] is None
        # 2199 × 84.00 = 184,716 paise a unit; two: ₹3,694.32.
        assert await sales(client, key) == (2, "3694.32", "3694.32", 1)

    async def test_else_the_store_rate_in_force_on_the_purchase_day_whatever_its_age(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        key, admin = await make_key("agency", "up-odop"), await make_key("admin")
        await set_rate(client, admin, "84.12", "2025-10-20")  # two weeks before: history
        await set_rate(client, admin, "85.00", "2025-11-05")  # after the purchase: not it
        await ingest_page(sessionmaker, shop.amazon, usd_order("US-1"))
        body = await the_order(client, key)
        assert booked(body) == (Decimal("84.12"), "RBI", "2025-10-20")
        assert Decimal(body["lines"][0]["inr_rate"]) == Decimal("84.12")
        assert await sales(client, key) == (2, "3699.60", "3699.60", 1)

        # The rate of that day replaced, the order pulled again: it keeps its booking.
        await set_rate(client, admin, "90.00", "2025-10-20")
        shipped = usd_order("US-1", status=OrderStatus.SHIPPED, updated_minutes=30)
        await ingest_page(sessionmaker, shop.amazon, shipped)
        body = await the_order(client, key)
        assert body["status"] == "shipped"
        assert booked(body) == (Decimal("84.12"), "RBI", "2025-10-20")
        assert await sales(client, key) == (2, "3699.60", "3699.60", 1)


class TestNoRateYet:
    async def test_kept_out_of_sales_saying_why_until_a_rate_prices_it(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        key, admin = await make_key("agency", "up-odop"), await make_key("admin")
        await ingest_page(sessionmaker, shop.amazon, usd_order("US-1"))
        body = await the_order(client, key)
        assert booked(body) == (None, None, None)
        assert body["inr_rate_missing"] == (
            f"no USD rate: the marketplace gave none with the order, and the FX store has none "
            f"valid on or before {DAY} (its purchase day in India); the order is left out of "
            f"the INR sales figures until one is set with `odop-sync fx set USD <rate> "
            f"--source <source> --date {DAY}` or POST /v1/fx/rates"
        )
        assert body["lines"][0]["inr_rate"] is None
        assert body["lines"][0]["stock_out"] == 2  # the order is real: its stock moved
        assert await sales(client, key) == (0, "0.00", "0.00", 0)

        later = await set_rate(client, admin, "84.50", "2025-11-10")  # after the purchase
        assert later["orders_priced"] == 0
        assert (await the_order(client, key))["inr_rate_missing"] is not None

        priced = await set_rate(client, admin, "84.12", "2025-11-01")
        assert priced["orders_priced"] == 1
        body = await the_order(client, key)
        assert booked(body) == (Decimal("84.12"), "RBI", "2025-11-01")
        assert body["inr_rate_missing"] is None
        assert Decimal(body["lines"][0]["inr_rate"]) == Decimal("84.12")
        assert await sales(client, key) == (2, "3699.60", "3699.60", 1)

        # A later cancellation takes out exactly what the pricing put in.
        cancelled = usd_order("US-1", status=OrderStatus.CANCELLED, updated_minutes=60)
        await ingest_page(sessionmaker, shop.amazon, cancelled)
        assert await sales(client, key) == (2, "3699.60", "0.00", 1)


def test_the_purchase_day_is_the_indian_day_of_t0() -> None:
    assert sales_day(T0) == date.fromisoformat(DAY)
