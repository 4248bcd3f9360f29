"""/metrics as an operator reads it: sync lag per account (age of the oldest dirty listing),
order-pull lag per account (age of the last completed pull), leases held by this process,
periodic job runs and failures by job id, and order pulls counted by result, after a sync and
after injected failures.

Counters live for the whole test process (other tests move them too), so counters are read as
the difference between two scrapes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from odop_sync.app import create_app
from odop_sync.config import Settings
from odop_sync.db import transaction
from odop_sync.kit.time import utcnow
from odop_sync.models import OrderCursor
from odop_sync.sync.scheduler import PeriodicJob
from tests.conftest import bearer
from tests.sync.conftest import MakeWorld, World, eventually, sandbox_transport

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def app(settings: Settings, engine: Any) -> AsyncIterator[FastAPI]:
    """The worker app with its scheduler stopped: the tests fire the periodic jobs."""
    application = create_app(settings, workers=True)
    async with application.router.lifespan_context(application):
        await application.state.scheduler.stop()
        yield application


async def scrape(client: httpx.AsyncClient) -> Samples:
    r = await client.get("/metrics")
    assert r.status_code == 200, r.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(r.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


class _HeldPushes(httpx.AsyncBaseTransport):
    """The sandbox transport; after `hold()`, listing writes wait until released (a push in
    flight)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    def hold(self) -> None:
        self.entered.clear()
        self.release.clear()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in ("PUT", "PATCH") and "/listings/" in request.url.path:
            self.entered.set()
            await self.release.wait()
        return await self.inner.handle_async_request(request)


async def _synced(world: World, sku: str, price: str) -> None:
    async def there() -> bool:
        return Decimal((await world.remote())[sku]["price"]) == Decimal(price)

    await eventually(there, timeout=30.0)
    await world.app.state.sync.wait_all_idle()


class TestMetrics:
    async def test_sync_lag_and_leases_held_during_and_after_a_sync(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world(items=3)
        held = _HeldPushes(sandbox_transport(*world.sandboxes.values()))
        world.app.state.adapter_transport = held
        account_id = await world.create_account(markup_percent="0", rounding="none")
        assert (await world.sync_now(account_id))["status"] == "done"
        account = {"account": str(account_id), "adapter": "amazon"}
        after_sync = await scrape(world.client)
        assert value(after_sync, "odop_sync_lag_seconds", **account) == 0.0
        assert value(after_sync, "odop_leases_held", kind="sync") == 0.0

        # A change on its way out, held on the wire: the account's lease is held, and its
        # oldest dirty listing is as old as the change at most.
        held.hold()
        sku = sorted(await world.remote())[0]
        changed = utcnow()
        r = await world.client.patch(
            f"/v1/variants/{sku}", json={"price": "901.00"}, headers=bearer(world.key)
        )
        assert r.status_code == 200, r.text
        await asyncio.wait_for(held.entered.wait(), 30.0)
        during = await scrape(world.client)
        scraped = utcnow()
        lag = value(during, "odop_sync_lag_seconds", **account)
        assert lag is not None and lag > 0
        # Dirty since the change was recorded: not before the change was sent.
        assert lag <= (scraped - changed).total_seconds()
        assert value(during, "odop_leases_held", kind="sync") == 1.0

        held.release.set()
        await _synced(world, sku, "901.00")
        done = await scrape(world.client)
        assert value(done, "odop_sync_lag_seconds", **account) == 0.0
        assert value(done, "odop_leases_held", kind="sync") == 0.0

    async def test_order_pulls_their_lag_and_failures_and_periodic_job_runs(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world(items=3)
        account_id = await world.create_account()
        scheduler = world.app.state.scheduler
        account = {"account": str(account_id), "adapter": "amazon"}
        before = await scrape(world.client)

        pulled = utcnow()
        assert await scheduler.fire("orders.pull", force=True)
        ok = await scrape(world.client)
        scraped = utcnow()
        assert _delta(before, ok, "odop_order_pulls_total", result="ok", **account) == 1
        assert _delta(before, ok, "odop_order_pulls_total", result="failed", **account) == 0
        assert _delta(before, ok, "odop_periodic_job_runs_total", job="orders.pull") == 1
        assert _delta(before, ok, "odop_periodic_job_failures_total", job="orders.pull") == 0
        lag = value(ok, "odop_order_pull_lag_seconds", **account)
        assert lag is not None and 0 <= lag <= (scraped - pulled).total_seconds()
        assert value(ok, "odop_leases_held", kind="orders") == 0.0

        # The last good pull was ten minutes ago, and now Amazon answers 503: the pull fails,
        # is counted, and the lag goes on growing from the good one.
        started = utcnow()
        async with transaction(world.sessionmaker) as session:
            await session.execute(
                update(OrderCursor)
                .where(OrderCursor.account_id == account_id)
                .values(pulled_at=started - timedelta(minutes=10))
            )
        world.sandbox.faults.fail(503, operation="searchOrders", times=None)
        assert await scheduler.fire("orders.pull", force=True)
        failed = await scrape(world.client)
        scraped = utcnow()
        assert _delta(ok, failed, "odop_order_pulls_total", result="failed", **account) == 1
        assert _delta(ok, failed, "odop_order_pulls_total", result="ok", **account) == 0
        # The job ran to its end: one account's failure is the pull's, not the job's.
        assert _delta(ok, failed, "odop_periodic_job_runs_total", job="orders.pull") == 1
        assert _delta(ok, failed, "odop_periodic_job_failures_total", job="orders.pull") == 0
        lag = value(failed, "odop_order_pull_lag_seconds", **account)
        assert lag is not None
        ten_minutes = 600.0
        assert ten_minutes <= lag <= ten_minutes + (scraped - started).total_seconds()

        # A periodic job that fails is counted by its id.
        async def broken() -> None:
            raise RuntimeError("injected")

        scheduler.jobs["test.broken"] = PeriodicJob("test.broken", 60.0, broken)
        assert await scheduler.fire("test.broken", force=True)
        after = await scrape(world.client)
        assert _delta(failed, after, "odop_periodic_job_runs_total", job="test.broken") == 1
        assert _delta(failed, after, "odop_periodic_job_failures_total", job="test.broken") == 1

    async def test_an_account_never_pulled_lags_since_it_was_connected(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world(items=1)
        connected = utcnow()
        account_id = await world.create_account()
        samples = await scrape(world.client)
        scraped = utcnow()
        lag = value(
            samples, "odop_order_pull_lag_seconds", account=str(account_id), adapter="amazon"
        )
        assert lag is not None and 0 <= lag <= (scraped - connected).total_seconds()


def _delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return (value(after, name, **labels) or 0.0) - (value(before, name, **labels) or 0.0)
