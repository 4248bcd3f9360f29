"""What putListingsItem / patchListingsItem answer with (`includedData`), and where the ASIN of a
listing comes from.

listingsItems_2021-08-01.json, putListingsItem and patchListingsItem: `includedData` is
`identifiers` and/or `issues`, default `issues`; `identifiers` "Can only be requested when
`mode` is `VALIDATION_PREVIEW`". ItemIdentifiers are per marketplace ({marketplaceId, asin}).
A JSON_LISTINGS_FEED's report lists each item with the data sets the feed's header asks for
(listings-feed-schema-v2.json, header.report.includedData), summaries among them, and an
ItemSummaryByMarketplace carries the ASIN.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from adapters.amazon.adapter import AmazonAdapter
from adapters.amazon.product_types import load_product_types
from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox

from adapters.amazon import mapping, regions
from odop_sync.adapter_sdk import ItemStatus, RateLimiter, SubmissionState
from tests.adapters.amazon.conftest import (
    TIME_SCALE,
    amazon_env,
    client_for,
    listing,
    sandbox_config,
)

MARKETPLACE = "A21TJRUUN4KGV"  # Amazon.in
GERMANY = "A1PA6795UKMFR9"
ITEM = f"/listings/2021-08-01/items/{SANDBOX_SELLER}/SUB-1"


@pytest.fixture
async def sandbox_client() -> httpx.AsyncClient:
    sandbox = AmazonSandbox(time_scale=TIME_SCALE)
    client = await client_for(sandbox)
    client.sandbox = sandbox  # type: ignore[attr-defined]
    return client


def _put_body() -> dict[str, Any]:
    """A complete putListingsItem body, as the adapter builds it for a sample listing."""
    mapped = mapping.map_listing(listing("SUB-1"), load_product_types(), MARKETPLACE)
    return mapped.put_request().to_wire()


async def _put(client: httpx.AsyncClient, **query: str) -> httpx.Response:
    client.sandbox.clock.advance(1)  # type: ignore[attr-defined]  # never throttled
    return await client.put(ITEM, params={"marketplaceIds": MARKETPLACE, **query}, json=_put_body())


class TestSandboxIncludedData:
    async def test_a_put_answers_with_issues_only_unless_asked(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        default = await _put(sandbox_client)
        assert default.status_code == 200, default.text
        assert set(default.json()) == {"sku", "status", "submissionId", "issues"}
        assert default.json()["status"] == "ACCEPTED"

    async def test_identifiers_outside_validation_preview_are_refused(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        response = await _put(sandbox_client, includedData="identifiers,issues")
        assert response.status_code == 400, response.text
        (error,) = response.json()["errors"]
        assert error["code"] == "InvalidInput"
        assert "VALIDATION_PREVIEW" in error["details"]
        sandbox: AmazonSandbox = sandbox_client.sandbox  # type: ignore[attr-defined]
        assert sandbox.listing_skus(SANDBOX_SELLER) == set()  # nothing was stored

    async def test_a_validation_preview_answers_with_the_identifiers_asked_for(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        stored = await _put(sandbox_client)
        assert stored.json()["status"] == "ACCEPTED"
        sandbox: AmazonSandbox = sandbox_client.sandbox  # type: ignore[attr-defined]
        asin = sandbox.state.table(SANDBOX_SELLER, "listings")["SUB-1"]["asin"]

        preview = await _put(sandbox_client, mode="VALIDATION_PREVIEW", includedData="identifiers")
        assert preview.status_code == 200, preview.text
        body = preview.json()
        assert body["status"] == "VALID"
        assert "issues" not in body  # not asked for
        assert body["identifiers"] == [{"marketplaceId": MARKETPLACE, "asin": asin}]

    async def test_an_unknown_data_set_is_refused(self, sandbox_client: httpx.AsyncClient) -> None:
        response = await _put(sandbox_client, includedData="summaries")  # not put's to give
        assert response.status_code == 400, response.text
        assert "includedData" in response.json()["errors"][0]["details"]


class TestAsin:
    async def test_items_pushed_one_by_one_are_accepted_without_asking_for_identifiers(
        self,
    ) -> None:
        sandbox = AmazonSandbox(time_scale=TIME_SCALE)
        async with amazon_env(sandbox) as env:
            (result,) = await env.adapter.push_listings([listing("SUB-2")])
        assert result.status is ItemStatus.ACCEPTED, result.issues

    async def test_the_asin_of_the_accounts_marketplace_is_taken_from_identifiers(
        self,
    ) -> None:
        """Should Amazon answer a submission with identifiers, the ASIN recorded is the account's
        marketplace's, not simply the first."""
        answer = {
            "sku": "SUB-3",
            "status": "ACCEPTED",
            "submissionId": "f1dc2914-75dd-11ea-bc55-0242ac130003",
            "issues": [],
            "identifiers": [
                {"marketplaceId": GERMANY, "asin": "B0GERMANY1"},
                {"marketplaceId": MARKETPLACE, "asin": "B0INDIA001"},
            ],
        }
        router = respx.Router(assert_all_called=True)
        router.post(regions.LWA_TOKEN_URL).respond(
            200, json={"access_token": "Atza|test", "expires_in": 3600}
        )
        put = router.put(f"{regions.EUROPE}/listings/2021-08-01/items/{SANDBOX_SELLER}/SUB-3")
        put.respond(200, json=answer, headers={"x-amzn-RateLimit-Limit": "5"})
        config = sandbox_config(AmazonSandbox())
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http:
            adapter = AmazonAdapter(config, http, RateLimiter(AmazonAdapter.limits))
            (result,) = await adapter.push_listings([listing("SUB-3")])
        assert result.remote_id == "B0INDIA001"
        assert put.calls.last.request.url.params["includedData"] == "issues"

    async def test_a_feed_records_each_accepted_items_asin_from_the_report(self) -> None:
        sandbox = AmazonSandbox(time_scale=TIME_SCALE)
        items = [listing(f"ASIN-{n:03d}") for n in range(60)]  # over the bulk threshold
        async with amazon_env(sandbox) as env:
            submitted = await env.adapter.push_listings(items)
            assert {r.status for r in submitted} == {ItemStatus.SUBMITTED}
            sandbox.clock.advance(120)
            (status,) = await env.adapter.poll_submissions([submitted[0].submission_id or ""])
        assert status.state is SubmissionState.DONE
        held = sandbox.state.table(SANDBOX_SELLER, "listings")
        assert {r.sku: r.remote_id for r in status.results} == {
            i.sku: held[i.sku]["asin"] for i in items
        }
