"""The sandbox judges the adapter by its own rules (sandbox_rules), not by what the adapter
declares: an adapter that allows itself more than the sandbox's limit meets 429s, and the
sandbox serves the documented paths whatever the adapter's wire module says.

Flipkart publishes no rate limits (specs/SOURCE.md; no docs page speaks of a rate, quota or
throttling). The sandbox's stated assumption: 5 calls a second per operation, bursts of 25; a
refused call answers 429 with Retry-After. The paths are the rebuilt spec's, per operationId.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import ClassVar

import pytest
from adapters.flipkart.adapter import FlipkartAdapter
from adapters.flipkart.sandbox import SANDBOX_SELLER, SPEC_FILE, FlipkartSandbox
from fastapi.routing import APIRoute

from odop_sync.adapter_sdk import OperationLimit, RateLimitedError, specs_dir
from odop_sync.adapter_sdk.testing import conformance_env
from tests.adapters.flipkart.conftest import sandbox_config

# Marketplace time all but stands still: no token comes back during the test, so what the
# sandbox lets through is its burst, exactly.
STILL = 1e-6
ASSUMED_BURST = 25  # the sandbox's stated assumption, not a Flipkart figure
SKUS_PER_CALL = 10  # docs: faq, "a maximum of 10 FSNs at a time"


class OverEagerAdapter(FlipkartAdapter):
    """Allows itself getListings at 50 a second, bursts of 50."""

    limits: ClassVar[Mapping[str, OperationLimit]] = {
        **FlipkartAdapter.limits,
        "getListings": dataclasses.replace(
            FlipkartAdapter.limits["getListings"], rate=50, burst=50
        ),
    }


async def _fetch_too_fast(adapter_cls: type[FlipkartAdapter]) -> FlipkartSandbox:
    """Thirty getListings calls, one after another, in marketplace time that stands still."""
    sandbox = FlipkartSandbox(time_scale=STILL)
    skus = [f"EAGER-{n:03d}" for n in range(SKUS_PER_CALL * 30)]
    async with conformance_env(
        adapter_cls,
        sandbox_config(sandbox),
        app=sandbox.app,
        sandbox=sandbox,
        account=SANDBOX_SELLER,
    ) as env:  # its limiter paces by what the adapter declares
        with pytest.raises(RateLimitedError) as refused:
            await env.adapter.fetch_listing_states(skus)
    assert refused.value.retry_after is not None  # the 429 carried Retry-After
    return sandbox


async def test_a_limit_above_the_sandboxs_meets_429s() -> None:
    sandbox = await _fetch_too_fast(OverEagerAdapter)
    assert sandbox.guard.throttled["getListings"] == 1  # the calls go one after another
    assert sandbox.call_count("getListings") == ASSUMED_BURST + 1


async def test_an_operation_the_adapter_declares_no_limit_for_is_metered_all_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forgot = {op: limit for op, limit in FlipkartAdapter.limits.items() if op != "getListings"}
    monkeypatch.setattr(FlipkartAdapter, "limits", forgot)  # so its limiter never waits
    sandbox = await _fetch_too_fast(FlipkartAdapter)
    assert sandbox.guard.throttled["getListings"] == 1
    assert sandbox.call_count("getListings") == ASSUMED_BURST + 1


def test_the_sandbox_serves_every_operation_on_the_specs_path_and_meters_it() -> None:
    sandbox = FlipkartSandbox()
    spec = json.loads((specs_dir("adapters.flipkart") / SPEC_FILE).read_text("utf-8"))
    documented = {
        op["operationId"]: (method.upper(), path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    served = {
        (method, route.path.replace("{sku_ids}", "{skuIds}"))
        for route in sandbox.app.routes
        if isinstance(route, APIRoute) and not route.path.startswith(("/_sandbox", "/oauth"))
        for method in route.methods
    }
    assert served <= set(documented.values())  # every route is a documented operation's
    served_ops = {op for op, route in documented.items() if route in served}
    assert served_ops == {
        "createListings",
        "updateListings",
        "updatePrice",
        "updateInventory",
        "getListings",
        "listingSearch",
        "searchPreDispatchShipmentPost",
        "searchPreDispatchShipmentGet",
    }
    assert all(op in sandbox.guard.plans for op in served_ops)  # none goes unmetered
