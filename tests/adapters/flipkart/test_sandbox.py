"""The sandbox speaks Flipkart's Listings V3: spec validation, per-SKU statuses inside 200s,
OAuth errors, a configurable rate limit with 429, faults and state over HTTP."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from adapters.flipkart.sandbox import SANDBOX_LOCATION, SANDBOX_SELLER, FlipkartSandbox

from tests.adapters.flipkart.conftest import FSN, client_for

LISTINGS = "/sellers/listings/v3"


def entry(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product_id": FSN,
        "price": {"mrp": 1500, "selling_price": 1200, "currency": "INR"},
        "tax": {"hsn": "570110", "goods_services_rate": 5},
        "listing_status": "ACTIVE",
        "fulfillment_profile": "NON_FBF",
        "fulfillment": {
            "dispatch_sla": 2,
            "shipping_provider": "FLIPKART",
            "procurement_type": "REGULAR",
        },
        "packages": [{"name": "box", "dimensions": {"length": 10, "breadth": 10, "height": 5}}],
        "locations": [{"id": SANDBOX_LOCATION, "status": "ENABLED", "inventory": 3}],
    }
    body.update(overrides)
    return body


@pytest.fixture
async def sandbox_client() -> httpx.AsyncClient:
    return await client_for(FlipkartSandbox(time_scale=1.0))


class TestFlipkartSandbox:
    async def test_a_body_that_breaks_the_spec_gets_400(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        # listing_status must be ACTIVE or INACTIVE and tax is required (CreateListingRequest).
        bad = entry(listing_status="LIVE")
        del bad["tax"]
        response = await sandbox_client.post(LISTINGS, json={"SKU-1": bad})
        assert response.status_code == 400
        description = response.json()["errors"][0]["description"]
        assert "tax" in description
        assert "listing_status" in description

    async def test_more_than_ten_skus_in_one_call_get_400(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        response = await sandbox_client.post(LISTINGS, json={f"S{n}": entry() for n in range(11)})
        assert response.status_code == 400
        assert "At most 10 SKUs" in response.json()["errors"][0]["description"]

    async def test_each_sku_gets_its_own_status_inside_a_200(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        response = await sandbox_client.post(
            LISTINGS,
            json={
                "GOOD": entry(),
                "DEAR": entry(price={"mrp": 100, "selling_price": 120, "currency": "INR"}),
                "ELSEWHERE": entry(locations=[{"id": "LOCNOWHERE", "status": "ENABLED"}]),
            },
        )
        assert response.status_code == 200
        body = response.json()
        assert body["GOOD"] == {"status": "SUCCESS", "errors": [], "attribute_errors": []}
        assert body["DEAR"]["status"] == "FAILURE"
        assert body["DEAR"]["attribute_errors"][0]["code"] == 2301
        assert body["ELSEWHERE"]["attribute_errors"][0]["attribute"] == "locations"
        again = (await sandbox_client.post(LISTINGS, json={"GOOD": entry()})).json()
        assert again["GOOD"]["errors"][0]["code"] == 1101  # create what exists: refused

    async def test_get_listings_sorts_skus_into_available_unavailable_and_invalid(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        await sandbox_client.post(LISTINGS, json={"SKU-1": entry()})
        body = (await sandbox_client.get(f"{LISTINGS}/SKU-1,SKU-2,bad%20sku")).json()
        assert body["available"]["SKU-1"]["product_id"] == FSN
        assert body["available"]["SKU-1"]["listing_id"].startswith("LST")
        assert (body["unavailable"], body["invalid"]) == (["SKU-2"], ["bad sku"])

    async def test_search_pages_through_the_listings(
        self, sandbox_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("adapters.flipkart.sandbox.SEARCH_PAGE", 2)
        await sandbox_client.post(LISTINGS, json={f"S{n}": entry() for n in range(3)})
        first = (await sandbox_client.post(f"{LISTINGS}/search", json={})).json()
        assert first["has_more"] is True
        assert [row["sku_id"] for row in first["listings"]] == ["S0", "S1"]
        rest = (
            await sandbox_client.post(f"{LISTINGS}/search", json={"page_id": first["next_page_id"]})
        ).json()
        assert (rest["has_more"], [row["sku_id"] for row in rest["listings"]]) == (False, ["S2"])

    async def test_calls_without_a_valid_token_are_refused_the_oauth_way(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        response = await sandbox_client.get(
            f"{LISTINGS}/SKU-1", headers={"Authorization": "Bearer forged"}
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"
        wrong = base64.b64encode(b"odop-sandbox-app:guess").decode()
        token = await sandbox_client.get(
            "/oauth-service/oauth/token?grant_type=client_credentials&scope=Seller_Api",
            headers={"Authorization": f"Basic {wrong}"},
        )
        assert token.status_code == 401

    async def test_the_rate_limit_is_configurable_and_answers_429_with_retry_after(self) -> None:
        sandbox = FlipkartSandbox(time_scale=1.0, rate=0.5, burst=3)
        client = await client_for(sandbox)
        statuses = [(await client.get(f"{LISTINGS}/S{i}")).status_code for i in range(4)]
        assert statuses == [200, 200, 200, 429]
        throttled = await client.get(f"{LISTINGS}/S9")
        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "2"  # one token at 0.5 a second
        assert sandbox.guard.throttled["getListings"] == 2

    async def test_faults_can_be_injected_over_http(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        added = await sandbox_client.post(
            "/_sandbox/faults",
            json={"status": 429, "operation": "updatePrice", "retry_after": 7, "times": 1},
        )
        assert added.status_code == 201
        price = {
            "S": {"product_id": FSN, "price": {"mrp": 9, "selling_price": 9, "currency": "INR"}}
        }
        throttled = await sandbox_client.post(f"{LISTINGS}/update/price", json=price)
        assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "7")
        answer = await sandbox_client.post(f"{LISTINGS}/update/price", json=price)
        assert answer.json()["S"]["errors"][0]["code"] == 1102  # no such listing yet

    async def test_state_endpoint_lists_what_the_sandbox_holds(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        await sandbox_client.post(LISTINGS, json={"SKU-1": entry()})
        state = (await sandbox_client.get(f"/_sandbox/state/{SANDBOX_SELLER}")).json()
        (row,) = state["listings"]
        assert (row["sku"], row["fsn"], row["price"], row["quantity"]) == ("SKU-1", FSN, "1200", 3)
        assert state["batchSizes"] == {"createListings": [1]}
