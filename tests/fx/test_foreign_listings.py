"""Listings of an account whose marketplace prices in US dollars: the INR price after the
account's pricing rule, converted at the FX rate in force (every amount worked by hand below),
held back with the reason in plain words while no rate (or only a stale one) is in force, and
sent by itself once a fresh rate is set. Every push attempt records the rate it carried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.models import SyncAttempt
from tests.api.helpers import PRODUCER, item, wait_for_batch
from tests.conftest import MakeAgency, MakeKey, bearer
from tests.fx.usd_market import SLUG, UsdMarket, register
from tests.sync.conftest import EVENT_TIMEOUT, assert_no_schedule_fires, eventually

# What reaches the marketplace comes from an event (the rate set, a sync run), not a schedule.
pytestmark = pytest.mark.schedules_hours_apart

HOW = (
    "set one with `odop-sync fx set USD <rate> --source <source> --date <date>` "
    "or POST /v1/fx/rates"
)


def today() -> date:
    return datetime.now(UTC).date()


@dataclass
class Shop:
    app: Any
    client: httpx.AsyncClient
    key: str  # the agency's
    admin: str
    market: type[UsdMarket]
    sessionmaker: async_sessionmaker[AsyncSession]

    async def account(self, **rule: Any) -> int:
        body = {"adapter": SLUG, "name": "UP ODOP export", "credentials": {"seller": "S1"}}
        r = await self.client.post("/v1/accounts", json={**body, **rule}, headers=bearer(self.key))
        assert r.status_code == 201, r.text
        assert r.json()["currency"] == "USD"
        return int(r.json()["id"])

    async def set_rate(self, rate: str, source: str, valid_on: date) -> dict[str, Any]:
        r = await self.client.post(
            "/v1/fx/rates",
            json={"currency": "USD", "rate": rate, "source": source, "valid_on": str(valid_on)},
            headers=bearer(self.admin),
        )
        assert r.status_code in (200, 201), r.text
        body: dict[str, Any] = r.json()
        return body

    async def sync_now(self, account_id: int) -> None:
        r = await self.client.post(
            "/v1/sync/runs", json={"account_id": account_id}, headers=bearer(self.key)
        )
        assert r.status_code == 202, r.text
        run = f"/v1/sync/runs/{r.json()['id']}"

        async def done() -> bool:
            body = (await self.client.get(run, headers=bearer(self.key))).json()
            assert body["status"] != "failed", body
            return bool(body["status"] == "done")

        await eventually(done, EVENT_TIMEOUT, 0.05)

    async def listings(self, account_id: int) -> dict[str, dict[str, Any]]:
        r = await self.client.get(
            "/v1/listings", params={"account_id": account_id}, headers=bearer(self.key)
        )
        assert r.status_code == 200, r.text
        return {row["sku"]: row for row in r.json()["items"]}

    async def detail(self, listing_id: int) -> dict[str, Any]:
        r = await self.client.get(f"/v1/listings/{listing_id}", headers=bearer(self.key))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def received(self, prices: dict[str, tuple[int, str]]) -> None:
        """Until the marketplace's newest prices are these."""

        async def arrived() -> bool:
            return all(self.market.last_prices().get(sku) == p for sku, p in prices.items())

        await eventually(arrived, EVENT_TIMEOUT)

    async def settled(self, account_id: int) -> None:
        """Until every listing of the account is live: what the marketplace accepted is saved
        (the listing, its timeline, the attempt log) after the call returns."""

        async def live() -> bool:
            rows = await self.listings(account_id)
            return bool(rows) and all(row["status"] == "live" for row in rows.values())

        await eventually(live, EVENT_TIMEOUT)

    async def attempts(self, account_id: int) -> list[SyncAttempt]:
        async with self.sessionmaker() as session:
            query = select(SyncAttempt).where(SyncAttempt.account_id == account_id)
            return list(await session.scalars(query.order_by(SyncAttempt.id)))


@pytest.fixture
async def shop(
    app: Any,
    client: httpx.AsyncClient,
    make_agency: MakeAgency,
    make_key: MakeKey,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Shop:
    assert_no_schedule_fires(app)
    market = register(app)
    await make_agency("up-odop")
    key = await make_key("agency", "up-odop")
    admin = await make_key("admin")
    body = {
        "producers": [PRODUCER],
        "items": [
            item("BHD-RUG-RED", price="1850.00", mrp="2200.00", stock=3),
            item("BHD-RUG-IVORY", price="22579.00", mrp="24000.00", stock=2),
        ],
    }
    r = await client.post("/v1/batches", json=body, headers=bearer(key))
    assert r.status_code == 202, r.text
    batch = await wait_for_batch(client, key, r.json()["id"])
    assert batch["counts"]["rejected"] == 0, batch
    return Shop(app, client, key, admin, market, sessionmaker)


class TestNoRate:
    async def test_nothing_goes_out_until_a_rate_is_set_then_it_goes_by_itself(
        self, shop: Shop
    ) -> None:
        account_id = await shop.account()
        await shop.sync_now(account_id)
        assert shop.market.received == []
        day = today()
        missing = f"no USD rate in force on {day}: none has been set for that day or before; {HOW}"
        listings = await shop.listings(account_id)
        for row in listings.values():
            assert row["status"] == "needs_mapping"
            assert row["held_reason"] == missing
            assert row["latest_issue"]["code"] == "FX_RATE_MISSING"
            assert row["latest_issue"]["message"] == missing
        held = await shop.detail(listings["BHD-RUG-RED"]["id"])
        assert held["price"]["final"] == "1850.00"
        assert held["price"]["conversion"]["amount"] is None
        assert held["price"]["conversion"]["held_reason"] == missing

        # Nobody touches the variants: the rate alone sends them.
        set_ = await shop.set_rate("84.12", "RBI", day)
        assert set_["replaced"] is None and set_["rate"] == "84.12"
        # ₹1,850.00 / 84.12 = 2199.24 → US$21.99; ₹22,579.00 / 84.12 = 268.414 → US$268.41.
        await shop.received({"BHD-RUG-RED": (2199, "USD"), "BHD-RUG-IVORY": (26841, "USD")})
        first = next(p for kind, p in shop.market.received if p.sku == "BHD-RUG-RED")
        assert first.mrp is not None
        assert (first.mrp.amount, first.mrp.currency) == (2615, "USD")  # ₹2,200 / 84.12 = 26.153
        await shop.settled(account_id)
        row = (await shop.listings(account_id))["BHD-RUG-RED"]
        assert row["held_reason"] is None
        assert row["desired_price"] == "1850.00"
        assert row["desired_price_converted"] == "21.99"
        pushed_at = {"currency": "USD", "rate": "84.12", "source": "RBI", "valid_on": str(day)}
        assert row["last_pushed_fx"] == pushed_at
        detail = await shop.detail(row["id"])
        assert detail["price"]["conversion"] == {
            "currency": "USD",
            "inr": "1850.00",
            "rate": "84.12",
            "source": "RBI",
            "valid_on": str(day),
            "amount": "21.99",
            "held_reason": None,
        }
        notes = [i for i in detail["issues"] if i["code"] == "FX_RATE_IN_FORCE"]
        assert notes and notes[0]["message"] == (
            f"a USD rate is in force: 84.12 (RBI, {day}); the listing goes out at USD 21.99"
        )
        pushes = [a for a in await shop.attempts(account_id) if a.operation.startswith("push")]
        assert pushes
        for attempt in pushes:
            assert attempt.detail is not None and attempt.detail["fx"] == pushed_at


class TestStaleRate:
    async def test_a_rate_older_than_five_days_holds_and_a_fresh_one_releases(
        self, shop: Shop
    ) -> None:
        day = today()
        old = day - timedelta(days=6)
        await shop.set_rate("84.12", "RBI", old)
        account_id = await shop.account()
        await shop.sync_now(account_id)
        assert shop.market.received == []
        stale = (
            f"no USD rate in force on {day}: the newest is 84.12 (RBI, {old}), older than 5 "
            f"days; {HOW}"
        )
        for row in (await shop.listings(account_id)).values():
            assert row["status"] == "needs_mapping"
            assert row["held_reason"] == stale
            assert row["latest_issue"]["code"] == "FX_RATE_STALE"

        await shop.set_rate("83.50", "SBI TT", day)
        # ₹1,850.00 / 83.50 = 2215.57 → US$22.16.
        await shop.received({"BHD-RUG-RED": (2216, "USD")})
        await shop.settled(account_id)
        row = (await shop.listings(account_id))["BHD-RUG-RED"]
        assert row["last_pushed_fx"]["source"] == "SBI TT"

    async def test_five_days_old_is_still_fresh(self, shop: Shop) -> None:
        await shop.set_rate("84.12", "RBI", today() - timedelta(days=5))
        account_id = await shop.account()
        await shop.sync_now(account_id)
        assert shop.market.last_prices()["BHD-RUG-RED"] == (2199, "USD")


class TestRateChange:
    async def test_the_pricing_rule_works_in_inr_and_a_new_rate_reprices(self, shop: Shop) -> None:
        day = today()
        await shop.set_rate("84.12", "RBI", day)
        account_id = await shop.account(markup_percent="5", rounding="ends_in_9")
        await shop.sync_now(account_id)
        # ₹1,850 + 5 % = ₹1,942.50 → ₹1,943 → ends in 9: ₹1,949; / 84.12 = 23.169 → US$23.17.
        assert shop.market.last_prices()["BHD-RUG-RED"] == (2317, "USD")
        listing = (await shop.listings(account_id))["BHD-RUG-RED"]
        assert listing["desired_price"] == "1949.00"
        conversion = (await shop.detail(listing["id"]))["price"]["conversion"]
        assert (conversion["inr"], conversion["amount"]) == ("1949.00", "23.17")
        sent = len(shop.market.received)

        # Another source on the same day, entered later: it is the one in force.
        await shop.set_rate("83.00", "FBIL", day)
        # ₹1,949 / 83.00 = 23.4819 → US$23.48: an offer change only (the content is the same).
        await shop.received({"BHD-RUG-RED": (2348, "USD")})
        await shop.settled(account_id)
        assert {kind for kind, _ in shop.market.received[sent:]} == {"offer"}
        latest = [a for a in await shop.attempts(account_id) if a.operation == "push_offers"]
        assert latest and latest[-1].detail is not None
        assert latest[-1].detail["fx"] == {
            "currency": "USD", "rate": "83.00", "source": "FBIL", "valid_on": str(day)
        }  # fmt: skip

    async def test_an_account_currency_is_the_marketplaces_and_not_writable(
        self, shop: Shop
    ) -> None:
        body = {
            "adapter": SLUG,
            "name": "UP ODOP export",
            "credentials": {"seller": "S1"},
            "currency": "INR",
        }
        r = await shop.client.post("/v1/accounts", json=body, headers=bearer(shop.key))
        assert r.status_code == 201, r.text
        assert r.json()["currency"] == "USD"
        r = await shop.client.patch(
            f"/v1/accounts/{r.json()['id']}", json={"currency": "INR"}, headers=bearer(shop.key)
        )
        assert r.status_code == 200, r.text
        assert r.json()["currency"] == "USD"
