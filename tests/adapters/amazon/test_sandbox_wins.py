"""The sandbox judges the adapter by Amazon's documents, not by what the adapter declares: an
adapter that believes a wrong usage plan meets 429s, one whose product type map leaves out an
attribute Amazon requires gets Amazon's missing-attribute issue back.

Expected values come from the documents:
- listingsItems_2021-08-01.json, searchListingsItems: "**Usage Plan:** ... | 5 | 5 |" (rate 5 a
  second, burst 5); a throttled call answers 429 with code QuotaExceeded.
- SOFA's published product type schema requires fabric_type (with brand, bullet_point,
  country_of_origin, item_name, item_type_keyword, product_description and
  supplier_declared_dg_hz_regulation); a missing attribute is issue 90220 "'<name>' is required
  but not supplied." (listingsItems_2021-08-01.json, putListingsItem examples).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
import pytest
from adapters.amazon.adapter import AmazonAdapter
from adapters.amazon.product_types import ProductTypeMap
from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox
from pydantic import BaseModel

from odop_sync.adapter_sdk import (
    ItemStatus,
    OperationLimit,
    RateLimitedError,
    RateLimiter,
    SubmissionState,
)
from odop_sync.adapter_sdk.testing import conformance_env
from tests.adapters.amazon.conftest import TIME_SCALE, amazon_env, listing, sandbox_config

# Marketplace time all but stands still: no token of a usage plan comes back during the test,
# so what the sandbox lets through is its burst, exactly.
STILL = 1e-6
DOCUMENTED_SEARCH_BURST = 5
SEARCH_SKUS = 20  # searchListingsItems: identifiers maxItems 20


class OverEagerAdapter(AmazonAdapter):
    """Declares ten times the documented searchListingsItems plan."""

    limits: ClassVar[Mapping[str, OperationLimit]] = {
        **AmazonAdapter.limits,
        "searchListingsItems": dataclasses.replace(
            AmazonAdapter.limits["searchListingsItems"], rate=50, burst=50
        ),
    }


# The adapter's own map with a SOFA type that (wrongly) asks no fabric_type: its mapping then
# sends the cover as `material`.
FORGETFUL_MAP = {
    "default_product_type": "HOME",
    "common_required": [
        "item_name",
        "brand",
        "bullet_point",
        "product_description",
        "country_of_origin",
        "item_type_keyword",
        "condition_type",
        "supplier_declared_dg_hz_regulation",
    ],
    "product_types": {
        "HOME": {"item_type_keyword": "home-decor", "items": ["decor"], "required": []},
        "SOFA": {"item_type_keyword": "sofas", "items": ["sofa"], "required": ["material"]},
    },
}


class ForgetfulAdapter(AmazonAdapter):
    def __init__(
        self, config: BaseModel | Mapping[str, Any], http: httpx.AsyncClient, limiter: RateLimiter
    ) -> None:
        super().__init__(config, http, limiter)
        self.product_types = ProductTypeMap.from_toml(FORGETFUL_MAP)


def sofa(sku: str) -> Any:
    return listing(
        sku,
        title="Handloom cotton sofa, three seater",
        craft="handloom",
        odop_product="Handloom",
        material="Cotton",
    )


async def test_a_limit_above_the_documented_plan_meets_429s() -> None:
    sandbox = AmazonSandbox(time_scale=STILL)
    skus = [f"EAGER-{n:03d}" for n in range(SEARCH_SKUS * 8)]  # eight searches
    async with conformance_env(
        OverEagerAdapter,
        sandbox_config(sandbox),
        app=sandbox.app,
        sandbox=sandbox,
        account=SANDBOX_SELLER,
    ) as env:  # its limiter paces by the declared (wrong) plan
        with pytest.raises(RateLimitedError):
            await env.adapter.fetch_listing_states(skus)
    refused = sandbox.guard.throttled["searchListingsItems"]
    assert refused >= 1
    # The documented burst was served, not the adapter's fifty.
    assert sandbox.call_count("searchListingsItems") - refused == DOCUMENTED_SEARCH_BURST


@pytest.mark.parametrize("count", [1, 60], ids=["putListingsItem", "JSON_LISTINGS_FEED"])
async def test_an_attribute_the_adapters_map_leaves_out_is_rejected(count: int) -> None:
    sandbox = AmazonSandbox(time_scale=TIME_SCALE)
    items = [sofa(f"SOFA-{n:03d}") for n in range(count)]  # 60: over the bulk threshold
    async with amazon_env(sandbox) as env:
        adapter = ForgetfulAdapter(env.adapter.config, env.http, env.adapter.limiter)
        results = await adapter.push_listings(items)
        if count > 1:
            assert {r.status for r in results} == {ItemStatus.SUBMITTED}
            sandbox.clock.advance(120)
            (status,) = await adapter.poll_submissions([results[0].submission_id or ""])
            assert status.state is SubmissionState.DONE
            results = list(status.results)
    assert len(results) == count
    for result in results:
        assert result.status is ItemStatus.REJECTED, result
        (issue,) = [i for i in result.issues if i.code == "90220"]
        assert issue.attribute_names == ("fabric_type",)
        assert "'fabric_type' is required but not supplied." in issue.message
    assert sandbox.listing_skus(SANDBOX_SELLER) == set()
