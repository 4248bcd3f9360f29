"""The usage plans: the sandbox enforces the ones the models document (not the adapter's own
declaration), and the reconcile's searchListingsItems calls arrive inside the documented burst.

searchListingsItems (listingsItems_2021-08-01.json): "**Usage Plan:** | Rate (requests per
second) | Burst | ... | 5 | 5 |"; Amazon counts calls as they arrive.
"""

from __future__ import annotations

import json
import re

import httpx
from adapters.amazon.adapter import AmazonAdapter
from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox
from fastapi.routing import APIRoute

from odop_sync.adapter_sdk import RateLimiter, SubmissionState, create_http_client, specs_dir
from tests.adapters.amazon.conftest import amazon_env, listing, sandbox_config

# The engine reads a reconcile page of `window_items` (default 100) listings back per pass.
PAGE = 100
PAGES = 4
# Slow enough that the sandbox's arrival times mean something (one token of searchListingsItems
# is 100 ms of real time), fast enough for a unit test: the reconcile below takes ~1.5 s.
SCALE = 2.0
# Login with Amazon is another host (api.amazon.com): its answer takes a round trip.
LWA_ROUND_TRIP = 0.08  # marketplace seconds


class FarTokenHost(httpx.AsyncBaseTransport):
    """The sandbox, with the LWA token endpoint LWA_ROUND_TRIP away."""

    def __init__(self, sandbox: AmazonSandbox) -> None:
        self.sandbox = sandbox
        self.inner = httpx.ASGITransport(app=sandbox.app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/o2/token":
            await self.sandbox.clock.sleep(LWA_ROUND_TRIP)
        return await self.inner.handle_async_request(request)


def test_the_sandbox_enforces_the_documented_plans() -> None:
    plans = AmazonSandbox().guard.plans
    # The models' tables, rate per second and burst.
    assert plans["searchListingsItems"] == (5.0, 5.0)
    assert plans["putListingsItem"] == (5.0, 10.0)
    assert plans["patchListingsItem"] == (5.0, 5.0)
    assert plans["getFeed"] == (2.0, 15.0)
    assert plans["createFeed"] == (0.0083, 15.0)
    assert plans["cancelFeed"] == (2.0, 15.0)  # one the adapter never declares
    assert plans["searchOrders"] == (0.0056, 20.0)


# Every SP-API operation the sandbox serves, with the plan its model's table states
# (listingsItems_2021-08-01.json, feeds_2021-06-30.json, orders_2026-01-01.json).
SERVED_PLANS = {
    "searchListingsItems": (5.0, 5.0),
    "putListingsItem": (5.0, 10.0),
    "patchListingsItem": (5.0, 5.0),
    "getListingsItem": (5.0, 10.0),
    "deleteListingsItem": (5.0, 5.0),
    "createFeedDocument": (0.5, 15.0),
    "getFeedDocument": (0.0222, 10.0),
    "createFeed": (0.0083, 15.0),
    "getFeed": (2.0, 15.0),
    "cancelFeed": (2.0, 15.0),
    "searchOrders": (0.0056, 20.0),
}


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_operation_the_sandbox_serves_has_its_documented_plan() -> None:
    """The sandbox's routes matched against the models' paths: each SP-API operation it serves
    is throttled at the plan its model documents (none goes unmetered)."""
    sandbox = AmazonSandbox()
    root = specs_dir("adapters.amazon")
    by_route = {}
    for name in (
        "listingsItems_2021-08-01.json",
        "feeds_2021-06-30.json",
        "orders_2026-01-01.json",
    ):
        model = json.loads((root / name).read_text(encoding="utf-8"))
        for path, item in model["paths"].items():
            for method, op in item.items():
                if isinstance(op, dict) and "operationId" in op:
                    by_route[(method.upper(), _template(path))] = op["operationId"]
    served = {
        by_route[(method, _template(route.path))]
        for route in sandbox.app.routes
        if isinstance(route, APIRoute)
        for method in route.methods
        if (method, _template(route.path)) in by_route
    }
    assert served == set(SERVED_PLANS)
    assert {op: sandbox.guard.plans.get(op) for op in served} == SERVED_PLANS


def test_no_declared_limit_is_above_the_documented_plan() -> None:
    plans = AmazonSandbox().guard.plans
    for operation, limit in AmazonAdapter.limits.items():
        rate, burst = plans[operation]
        assert limit.rate <= rate, operation
        assert limit.burst <= burst, operation


async def test_a_reconcile_of_many_pages_stays_inside_the_documented_burst() -> None:
    sandbox = AmazonSandbox(time_scale=SCALE)
    skus = [f"RC-{n:04d}" for n in range(PAGE * PAGES)]
    async with amazon_env(sandbox) as env:  # listed in one feed
        (first, *_) = await env.adapter.push_listings([listing(sku) for sku in skus])
        sandbox.clock.advance(120)
        (done,) = await env.adapter.poll_submissions([first.submission_id or ""])
        assert done.state is SubmissionState.DONE
    assert sandbox.listing_skus(SANDBOX_SELLER) == set(skus)

    # A fresh worker: its first calls wait for an access token.
    limiter = RateLimiter(AmazonAdapter.limits, account_key="1", clock=sandbox.clock)
    async with create_http_client(transport=FarTokenHost(sandbox), adapter_slug="amazon") as http:
        adapter = AmazonAdapter(sandbox_config(sandbox), http, limiter)
        for start in range(0, len(skus), PAGE):  # page after page, as the engine reads them
            states = await adapter.fetch_listing_states(skus[start : start + PAGE])
            assert all(s.exists for s in states)

    assert sandbox.call_count("searchListingsItems") == PAGES * PAGE // 20
    assert dict(sandbox.guard.throttled) == {}  # never a 429
    load = sandbox.load(SANDBOX_SELLER, "searchListingsItems")
    assert load.peak_in_flight <= 5
    assert load.peak_burst <= 5, load  # the arrivals fit Amazon's documented burst
