"""Sync engine tests: the real app, its engine and workers, and the marketplace sandboxes
(Amazon, Flipkart and Alibaba.com) in-process behind an ASGI transport (no network). Marketplace
time runs 1000× faster unless a test says otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from adapters.alibaba.sandbox import AlibabaSandbox
from adapters.amazon.sandbox import AmazonSandbox, SandboxApp
from adapters.flipkart.sandbox import FlipkartSandbox
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.alibaba import sandbox as alibaba
from adapters.amazon import sandbox as amazon
from adapters.flipkart import sandbox as flipkart
from odop_sync.demo.loader import load_demo_catalog
from odop_sync.models import Listing, Variant
from tests.api.helpers import wait_for_batch
from tests.conftest import MakeAgency, MakeKey, bearer
from tests.pricing import account_rules, available, rule_price, whole_rupees

MARKETPLACE = "http://marketplace.test"
MARKETPLACES = ("amazon", "flipkart")
Sandbox = AmazonSandbox | FlipkartSandbox | AlibabaSandbox


@dataclass(frozen=True)
class Market:
    """What the tests need to know of one marketplace's sandbox."""

    slug: str
    name: str
    seller: str
    credentials: Callable[[], dict[str, Any]]
    whole_rupees: bool = False  # Flipkart takes int32 rupees: paise are dropped

    @property
    def endpoint(self) -> str:
        return f"{MARKETPLACE}/sandbox/{self.slug}"


MARKETS = {
    "amazon": Market("amazon", "Amazon.in", amazon.SANDBOX_SELLER, amazon.demo_credentials),
    "flipkart": Market(
        "flipkart", "Flipkart", flipkart.SANDBOX_SELLER, flipkart.demo_credentials, True
    ),
    "alibaba": Market("alibaba", "Alibaba.com", alibaba.SANDBOX_SELLER, alibaba.demo_credentials),
}


def _slug(sandbox: Sandbox) -> str:
    if isinstance(sandbox, AlibabaSandbox):
        return "alibaba"
    return "flipkart" if isinstance(sandbox, FlipkartSandbox) else "amazon"


def sandbox_transport(*sandboxes: Sandbox) -> httpx.ASGITransport:
    outer = FastAPI()
    for sandbox in sandboxes:
        outer.mount(f"/sandbox/{_slug(sandbox)}", sandbox.app)
    return httpx.ASGITransport(app=outer)


def flipkart_fsn(attributes: Any) -> str | None:
    """The FSN a variant's attributes carry (`marketplaces.flipkart.fsn`), if any."""
    own = ((attributes or {}).get("marketplaces") or {}).get("flipkart") or {}
    fsn = own.get("fsn")
    return fsn if isinstance(fsn, str) and fsn else None


@dataclass
class World:
    app: Any
    client: httpx.AsyncClient
    sandbox: Sandbox  # the sandbox of `market`, the marketplace the test is about
    key: str
    agency_id: int
    sessionmaker: async_sessionmaker[AsyncSession]
    market: Market = MARKETS["amazon"]
    sandboxes: dict[str, Sandbox] = field(default_factory=dict)
    # What each account was created with, for `expected`.
    accounts: dict[int, tuple[Market, dict[str, Any]]] = field(default_factory=dict)

    async def remote(self, slug: str | None = None) -> dict[str, dict[str, Any]]:
        """A sandbox's listings for its demo seller, by SKU, as its state endpoint shows."""
        market = MARKETS[slug] if slug else self.market
        transport = sandbox_transport(*self.sandboxes.values())
        async with httpx.AsyncClient(transport=transport, base_url=MARKETPLACE) as c:
            r = await c.get(f"/sandbox/{market.slug}/_sandbox/state/{market.seller}")
        assert r.status_code == 200, r.text
        rows = r.json()["listings"]
        skus = [row["sku"] for row in rows]
        assert len(skus) == len(set(skus)), "a SKU is listed twice"
        return {row["sku"]: row for row in rows}

    async def create_account(self, adapter: str | None = None, **overrides: Any) -> int:
        market = MARKETS[adapter] if adapter else self.market
        body = {
            "adapter": market.slug,
            "name": market.name,
            "credentials": market.credentials(),
            "markup_percent": "5",
            "rounding": "ends_in_9",
            "stock_buffer": 1,
        }
        body.update(overrides)
        r = await self.client.post("/v1/accounts", json=body, headers=bearer(self.key))
        assert r.status_code == 201, r.text
        account_id = int(r.json()["id"])
        self.accounts[account_id] = (market, body)
        return account_id

    async def sync_now(
        self, account_id: int | None = None, timeout: float = 60.0
    ) -> dict[str, Any]:
        r = await self.client.post(
            "/v1/sync/runs", json={"account_id": account_id}, headers=bearer(self.key)
        )
        assert r.status_code == 202, r.text
        run_id = r.json()["id"]
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            got = await self.client.get(f"/v1/sync/runs/{run_id}", headers=bearer(self.key))
            assert got.status_code == 200, got.text
            body: dict[str, Any] = got.json()
            if body["status"] in ("done", "failed"):
                return body
            assert asyncio.get_running_loop().time() < deadline, body
            await asyncio.sleep(0.05)

    async def expected(self, account_id: int) -> dict[str, tuple[Decimal, int]]:
        """What the marketplace should show for every variant the account can list: (price in
        rupees, quantity), by the documented rule written out in tests/pricing.py (not the
        service's projection) from the rule this test posted and each variant's canonical price,
        MRP and stock. On Flipkart only variants mapped to an FSN, in whole rupees. No order is
        open in these tests: nothing is reserved."""
        market, body = self.accounts[account_id]
        rules = account_rules(body)
        buffer = int(body.get("stock_buffer", 0))
        async with self.sessionmaker() as session:
            variants = list(
                await session.scalars(select(Variant).where(Variant.agency_id == self.agency_id))
            )
        out = {}
        for v in variants:
            if market.slug == "flipkart" and flipkart_fsn(v.attributes) is None:
                continue
            price = rule_price(Decimal(v.price_paise) / 100, Decimal(v.mrp_paise) / 100, **rules)
            if market.whole_rupees:
                price = whole_rupees(price)
            out[v.sku] = (price, available(v.stock_on_hand, 0, buffer))
        return out

    async def listings(self, account_id: int) -> list[Listing]:
        async with self.sessionmaker() as session:
            return list(
                await session.scalars(select(Listing).where(Listing.account_id == account_id))
            )


MakeWorld = Callable[..., Awaitable[World]]


@pytest.fixture
def make_world(
    app: Any,
    client: httpx.AsyncClient,
    make_agency: MakeAgency,
    make_key: MakeKey,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> MakeWorld:
    async def make(
        *,
        items: int | None = None,
        sandbox: Sandbox | None = None,
        seed: int = 7,
        marketplace: str = "amazon",
    ) -> World:
        """The demo catalog (its first `items` variants) on an agency, with both sandboxes
        reachable; `sandbox` (or a new one) serves `marketplace`, the one the test is about."""
        sandboxes: dict[str, Sandbox] = {
            "amazon": AmazonSandbox(time_scale=1000.0, app_credentials=SandboxApp(), seed=seed),
            "flipkart": FlipkartSandbox(time_scale=1000.0, seed=seed),
            "alibaba": AlibabaSandbox(time_scale=1000.0, seed=seed),
        }
        if sandbox is not None:
            sandboxes[_slug(sandbox)] = sandbox
        sandbox = sandboxes[marketplace]
        app.state.adapter_transport = sandbox_transport(*sandboxes.values())
        # The engine paces itself by the sandbox's clock (its limits are documented ones × 1000).
        app.state.sync.time_scale = sandbox.clock.time_scale
        agency = await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        data = load_demo_catalog("http://127.0.0.1:8000")
        body = {"producers": data["producers"], "items": data["items"][:items]}
        r = await client.post("/v1/batches", json=body, headers=bearer(key))
        assert r.status_code == 202, r.text
        batch = await wait_for_batch(client, key, r.json()["id"])
        assert batch["counts"]["rejected"] == 0, batch
        return World(
            app, client, sandbox, key, agency.id, sessionmaker, MARKETS[marketplace], sandboxes
        )

    return make


# How long a test waits for something an event sets off: generous, for a loaded 2-core machine.
# How fast it really happens is bench/sync's figure (change propagation p50 and p95).
EVENT_TIMEOUT = 60.0


def assert_no_schedule_fires(app: Any) -> None:
    """The app's periodic jobs are hours apart (`@pytest.mark.schedules_hours_apart`): whatever
    reaches a sandbox within the test was set off by an event."""
    jobs = app.state.scheduler.jobs.values()
    assert jobs and all(job.interval_s >= 3600 for job in jobs), [
        (job.name, job.interval_s) for job in jobs
    ]


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float, interval: float = 0.02
) -> float:
    """Seconds until `check()` first holds; fails after `timeout`."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await check():
        if loop.time() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        await asyncio.sleep(interval)
    return loop.time() - started
