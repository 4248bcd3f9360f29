"""Alibaba.com under throttling, server errors, timeouts and answers lost after the gateway acted:
every B2B product of the demo catalog reaches the sandbox exactly once (Alibaba.com's add is not
idempotent) and converges on its tiers, stock and shelf; the others wait for their terms."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from adapters.alibaba.sandbox import SANDBOX_SELLER, AlibabaSandbox, demo_credentials
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.adapter_sdk.sandbox import FaultKind
from odop_sync.app import create_app
from odop_sync.config import Settings
from odop_sync.demo.loader import load_demo_catalog
from odop_sync.models import Listing, ListingStatus
from tests.api.helpers import wait_for_batch
from tests.conftest import SANDBOXES, MakeAgency, MakeKey, bearer
from tests.sync.alibaba_b2b import RED_CARPET, Shown, expected, set_usd_rate, shown, tiers
from tests.sync.conftest import eventually

SCHEMA_ADD = "/rest/icbu/product/schema/add"


@pytest.fixture
async def app(settings: Settings, engine: Any) -> AsyncIterator[Any]:
    """The app with Alibaba.com's hosts stood in for by the sandbox mounted below."""
    hosts = {**settings.marketplace_hosts, "alibaba": f"{SANDBOXES}/alibaba"}
    application = create_app(settings.model_copy(update={"marketplace_hosts": hosts}))
    async with application.router.lifespan_context(application):
        yield application


class LoseAnswers(httpx.AsyncBaseTransport):
    """The first `times` product adds reach the gateway and are carried out, but their answers
    never come back (the client sees a read timeout): the retry must find the product, not add
    it again."""

    def __init__(self, inner: httpx.AsyncBaseTransport, times: int) -> None:
        self.inner = inner
        self.left = times
        self.lost: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.left > 0 and request.url.path.endswith(SCHEMA_ADD):
            await response.aread()
            if '"code":"0"' in response.text.replace(" ", ""):
                self.left -= 1
                self.lost.append(response.text)
                raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


async def _state(transport: httpx.AsyncBaseTransport) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=transport, base_url="http://marketplace.test") as c:
        r = await c.get(f"/sandbox/alibaba/_sandbox/state/{SANDBOX_SELLER}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _sync_now(client: httpx.AsyncClient, key: str, account_id: int) -> None:
    r = await client.post("/v1/sync/runs", json={"account_id": account_id}, headers=bearer(key))
    assert r.status_code == 202, r.text


class TestAlibabaFaults:
    async def test_every_b2b_product_lands_once_through_429s_5xx_timeouts_and_lost_answers(
        self,
        app: Any,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        sandbox = AlibabaSandbox(time_scale=1000.0, seed=11)
        outer = FastAPI()
        outer.mount("/sandbox/alibaba", sandbox.app)
        plain = httpx.ASGITransport(app=outer)
        lossy = LoseAnswers(plain, times=3)
        app.state.adapter_transport = lossy
        app.state.sync.time_scale = sandbox.clock.time_scale
        await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        await set_usd_rate(client, await make_key("admin"))
        data = load_demo_catalog("http://127.0.0.1:8000")
        body = {"producers": data["producers"], "items": data["items"]}
        r = await client.post("/v1/batches", json=body, headers=bearer(key))
        assert r.status_code == 202, r.text
        assert (await wait_for_batch(client, key, r.json()["id"]))["counts"]["rejected"] == 0

        faults = sandbox.faults
        # As tests/sync/test_faults.py: per request 20 % throttled, then 10 % of all answer
        # 5xx, then 5 % of all never answer (the client times out).
        throttle = faults.fail(429, times=None, probability=0.20)
        errors = faults.fail(500, times=None, probability=0.10 / 0.80)
        hangs = faults.inject(FaultKind.HANG, delay=1.0, times=None, probability=0.05 / 0.70)
        # A retail pricing rule and a buffer: the buffer counts, the markup is not the tiers'.
        account = {
            "adapter": "alibaba",
            "name": "Alibaba.com",
            "credentials": demo_credentials(),
            "markup_percent": "5",
            "rounding": "ends_in_9",
            "stock_buffer": 1,
        }
        r = await client.post("/v1/accounts", json=account, headers=bearer(key))
        assert r.status_code == 201, r.text
        account_id = int(r.json()["id"])
        await _sync_now(client, key, account_id)

        # Stock keeps changing while the faults go on, and one product's tiers: the last wins.
        items = {item["sku"]: dict(item) for item in data["items"]}
        b2b = sorted(expected(items.values()))
        assert len(b2b) == 13
        for round_ in range(3):
            for n, sku in enumerate(b2b):
                stock = 0 if (round_ == 2 and n == 0) else 5 + round_ * 10 + n
                r = await client.patch(
                    f"/v1/variants/{sku}", json={"stock": stock}, headers=bearer(key)
                )
                assert r.status_code == 200, r.text
                items[sku]["stock"] = stock
                await asyncio.sleep(0.03)  # let some go out before the next change
        new_tiers = "20-99:900|100-499:800|500+:720"
        durrie = "MZP-DURRIE-5X7-INDIGO"
        r = await client.patch(
            f"/v1/variants/{durrie}", json={"b2b_price_tiers": new_tiers}, headers=bearer(key)
        )
        assert r.status_code == 200, r.text
        # The terms are the product's: the other size of the same durrie gets them too.
        for item in items.values():
            if item["product_ref"] == items[durrie]["product_ref"]:
                item["b2b_price_tiers"] = new_tiers
        want = expected(items.values(), buffer=1)

        seen: dict[str, Any] = {}

        async def converged() -> bool:
            async with sessionmaker() as session:
                rows = list(
                    await session.scalars(select(Listing).where(Listing.account_id == account_id))
                )
            seen["listings"] = {row.sku: row.status.value for row in rows}
            live = {row.sku for row in rows if row.status is ListingStatus.LIVE}
            waiting = {row.sku for row in rows if row.status is ListingStatus.NEEDS_MAPPING}
            seen["remote"] = shown(await _state(plain))
            if live != set(want) or len(waiting) != len(items) - len(want):
                return False
            return seen["remote"] == want

        try:
            await eventually(converged, timeout=120.0, interval=0.2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {seen} (expected {want})") from None
        state = await _state(plain)
        products = shown(state)
        # Once each: 13 products, 13 adds that took, however many answers were lost.
        assert len(state["listings"]) == len(products) == 13
        assert len(lossy.lost) == 3
        # The last change of each won (buffer 1): the first SKU sold out and off the shelf, the
        # others at their last round's stock less one; both durries at the new tiers (in cents:
        # 90000 paise ÷ 84.12 = 1069.90 → US$10.70, 80000 → 951.02 → US$9.51, 72000 → 855.92
        # → US$8.56).
        first = b2b[0]
        assert products[first] == Shown(
            tiers(str(items[first]["b2b_price_tiers"])), want[first].moq, 0, "N"
        )
        assert (products[b2b[1]].quantity, products[b2b[1]].display) == (5 + 20 + 1 - 1, "Y")
        for sku in ("MZP-DURRIE-4X6-INDIGO", durrie):
            assert products[sku].tiers == [(20, "10.70"), (100, "9.51"), (500, "8.56")]
        assert products["BHD-CARPET-3X5-RED"].tiers == RED_CARPET
        # The faults really happened, and every one of them was survived.
        assert throttle.fired >= 3 and errors.fired >= 2 and hangs.fired >= 1
