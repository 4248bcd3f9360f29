"""Listing states are read back with searchListingsItems, 20 SKUs a call, and the sandbox serves
that search as listingsItems_2021-08-01.json describes it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from adapters.amazon.adapter import AmazonAdapter
from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox

from adapters.amazon import regions
from odop_sync.adapter_sdk import Money, RateLimiter, RemoteListingState
from odop_sync.adapter_sdk.sandbox import SchemaValidator, specs_dir
from tests.adapters.amazon.conftest import (
    TIME_SCALE,
    amazon_env,
    client_for,
    listing,
    sandbox_config,
)

SEARCH = f"/listings/2021-08-01/items/{SANDBOX_SELLER}"
MARKETPLACE = "A21TJRUUN4KGV"


def _price(n: int) -> Money:
    return Money(amount=100_000 + n * 1_000)


def _listed(n: int) -> bool:
    return n % 3 != 0  # 30 of 45 are on Amazon


async def _seed(sandbox: AmazonSandbox, numbers: range) -> None:
    """Listings ST-nnn on the sandbox through the adapter (putListingsItem)."""
    items = [listing(f"ST-{n:03d}", price=_price(n), quantity=n + 1) for n in numbers]
    async with amazon_env(sandbox) as env:
        await env.adapter.push_listings(items)
    assert sandbox.listing_skus(SANDBOX_SELLER) >= {i.sku for i in items}


class TestFetchListingStates:
    async def test_45_skus_take_3_searches_and_come_back_in_order(self) -> None:
        sandbox = AmazonSandbox(time_scale=TIME_SCALE)
        await _seed(sandbox, range(1, 45, 3))  # pushed in batches under the bulk threshold
        await _seed(sandbox, range(2, 45, 3))
        # Not in sorted order, listed and unlisted SKUs mixed in every group of 20.
        numbers = [*range(44, -1, -2), *range(1, 45, 2)]
        skus = [f"ST-{n:03d}" for n in numbers]
        searches = sandbox.call_count("searchListingsItems")
        gets = sandbox.call_count("getListingsItem")
        async with amazon_env(sandbox) as env:
            states = await env.adapter.fetch_listing_states(skus)

        assert sandbox.call_count("searchListingsItems") - searches == 3  # 20 + 20 + 5
        assert sandbox.call_count("getListingsItem") == gets == 0
        assert [s.sku for s in states] == skus
        for n, state in zip(numbers, states, strict=True):
            if _listed(n):
                assert state.exists, state.sku
                assert state.price == _price(n), state.sku
                assert state.quantity == n + 1, state.sku
                assert state.status == "BUYABLE,DISCOVERABLE", state.sku
                assert state.remote_id is not None and state.remote_id.startswith("B0")
            else:
                assert not state.exists, state.sku
                assert state.status == "MISSING"
                assert state.price is None and state.quantity is None
        assert sum(s.exists for s in states) == 30

    async def test_a_sku_asked_twice_is_searched_once_and_answered_twice(self) -> None:
        sandbox = AmazonSandbox(time_scale=TIME_SCALE)
        await _seed(sandbox, range(1, 2))
        async with amazon_env(sandbox) as env:
            states = await env.adapter.fetch_listing_states(["ST-001", "NOPE", "ST-001"])
        assert [(s.sku, s.exists) for s in states] == [
            ("ST-001", True),
            ("NOPE", False),
            ("ST-001", True),
        ]
        assert sandbox.call_count("searchListingsItems") == 1

    async def test_no_skus_make_no_call(self) -> None:
        sandbox = AmazonSandbox(time_scale=TIME_SCALE)
        async with amazon_env(sandbox) as env:
            assert await env.adapter.fetch_listing_states([]) == []
        assert sandbox.call_count("searchListingsItems") == 0


@pytest.fixture
async def seeded() -> AmazonSandbox:
    sandbox = AmazonSandbox(time_scale=TIME_SCALE)
    await _seed(sandbox, range(1, 6))
    return sandbox


async def _search(sandbox: AmazonSandbox, **query: Any) -> httpx.Response:
    """One searchListingsItems request; marketplace time moves on a second first, so the usage
    plan (rate 5, burst 5) never throttles a test."""
    sandbox.clock.advance(1)
    params = {"marketplaceIds": MARKETPLACE, **query}
    client = await client_for(sandbox)
    try:
        return await client.get(SEARCH, params=params)
    finally:
        await client.aclose()


def _error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["code"] == "InvalidInput"
    return error  # type: ignore[no-any-return]


class TestSandboxSearch:
    @pytest.mark.parametrize(
        ("query", "words"),
        [
            ({"identifiers": "ST-001"}, "identifiersType"),
            ({"identifiersType": "SKU"}, "identifiers"),
            ({"identifiers": "ST-001", "identifiersType": "SELLER_SKU"}, "identifiersType"),
            ({"identifiers": "ST-001", "identifiersType": "sku"}, "identifiersType"),
            (
                {"identifiers": "ST-001", "identifiersType": "SKU", "variationParentSku": "P"},
                "cannot be combined",
            ),
        ],
    )
    async def test_bad_identifier_combinations_are_refused(
        self, seeded: AmazonSandbox, query: dict[str, str], words: str
    ) -> None:
        error = _error(await _search(seeded, **query))
        assert words in error["message"] + error["details"]

    async def test_more_than_20_identifiers_are_refused(self, seeded: AmazonSandbox) -> None:
        many = ",".join(f"ST-{n:03d}" for n in range(21))
        error = _error(await _search(seeded, identifiers=many, identifiersType="SKU"))
        assert "identifiers" in error["details"]
        assert "at most 20" in error["details"]
        twenty = ",".join(f"ST-{n:03d}" for n in range(20))
        response = await _search(seeded, identifiers=twenty, identifiersType="SKU", pageSize=20)
        assert response.status_code == 200, response.text
        assert [i["sku"] for i in response.json()["items"]] == [f"ST-00{n}" for n in range(1, 6)]

    @pytest.mark.parametrize(
        "query",
        [
            {"pageSize": "21"},
            {"pageSize": "0"},
            {"pageSize": "ten"},
            {"includedData": "summaries,prices"},
            {"sku": "ST-001"},  # not a parameter of searchListingsItems
            {"pageToken": "not-a-token"},
        ],
    )
    async def test_other_invalid_queries_are_refused(
        self, seeded: AmazonSandbox, query: dict[str, str]
    ) -> None:
        _error(await _search(seeded, **query))

    async def test_skus_are_matched_and_others_left_out(self, seeded: AmazonSandbox) -> None:
        response = await _search(
            seeded, identifiers="ST-004,NOPE,ST-002", identifiersType="SKU", issueLocale="en_IN"
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["numberOfResults"] == 2
        assert [i["sku"] for i in body["items"]] == ["ST-002", "ST-004"]
        assert "pagination" not in body

    async def test_other_identifier_types_find_nothing(self, seeded: AmazonSandbox) -> None:
        response = await _search(seeded, identifiers="B0ABCDEF12", identifiersType="ASIN")
        assert response.status_code == 200, response.text
        assert response.json() == {"numberOfResults": 0, "items": []}

    async def test_included_data_is_honoured(self, seeded: AmazonSandbox) -> None:
        query = {"identifiers": "ST-003", "identifiersType": "SKU"}
        (plain,) = (await _search(seeded, **query)).json()["items"]
        assert set(plain) == {"sku", "summaries"}  # default: summaries
        (offers,) = (await _search(seeded, includedData="offers", **query)).json()["items"]
        assert set(offers) == {"sku", "offers"}
        assert offers["offers"][0]["price"] == {"currencyCode": "INR", "amount": "1030.00"}
        both = await _search(
            seeded, includedData="summaries,offers,fulfillmentAvailability,issues", **query
        )
        (item,) = both.json()["items"]
        assert set(item) == {"sku", "summaries", "offers", "fulfillmentAvailability", "issues"}
        assert item["fulfillmentAvailability"] == [
            {"fulfillmentChannelCode": "DEFAULT", "quantity": 4}
        ]
        # The same item getListingsItem answers with for the same includedData.
        client = await client_for(seeded)
        got = await client.get(
            f"{SEARCH}/ST-003",
            params={
                "marketplaceIds": MARKETPLACE,
                "includedData": "summaries,offers,fulfillmentAvailability,issues",
            },
        )
        await client.aclose()
        assert got.json() == item

    async def test_identifier_results_come_in_pages(self, seeded: AmazonSandbox) -> None:
        query = {"identifiers": "ST-005,ST-001,ST-003", "identifiersType": "SKU", "pageSize": 2}
        first = (await _search(seeded, **query)).json()
        assert [i["sku"] for i in first["items"]] == ["ST-001", "ST-003"]
        assert first["numberOfResults"] == 3
        token = first["pagination"]["nextToken"]
        second = (await _search(seeded, pageToken=token, **query)).json()
        assert [i["sku"] for i in second["items"]] == ["ST-005"]
        assert "nextToken" not in second["pagination"]
        assert "previousToken" in second["pagination"]

    async def test_answers_match_the_spec(self, seeded: AmazonSandbox) -> None:
        spec = json.loads(
            (specs_dir("adapters.amazon") / "listingsItems_2021-08-01.json").read_text(
                encoding="utf-8"
            )
        )
        results = SchemaValidator.for_definition(spec, "ItemSearchResults")
        every = "summaries,attributes,issues,offers,fulfillmentAvailability"
        for query in (
            {},
            {"pageSize": 2, "includedData": every},
            {"identifiers": "ST-001,ST-002", "identifiersType": "SKU", "includedData": every},
        ):
            response = await _search(seeded, **query)
            assert response.status_code == 200, response.text
            assert results.errors(response.json()) == [], query


def _offer(marketplace: str, offer_type: str, amount: str) -> dict[str, Any]:
    return {
        "marketplaceId": marketplace,
        "offerType": offer_type,
        "price": {"currencyCode": "INR" if marketplace == MARKETPLACE else "EUR", "amount": amount},
    }


async def _states_answered_with(offers: list[dict[str, Any]]) -> list[RemoteListingState]:
    """fetch_listing_states of ST-001 when Amazon's searchListingsItems lists these offers."""
    item = {
        "sku": "ST-001",
        "summaries": [
            {
                "marketplaceId": MARKETPLACE,
                "asin": "B0STATE001",
                "productType": "RUG",
                "status": ["BUYABLE", "DISCOVERABLE"],
            }
        ],
        "offers": offers,
        "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": 3}],
        "issues": [],
    }
    router = respx.Router(assert_all_called=True)
    router.post(regions.LWA_TOKEN_URL).respond(
        200, json={"access_token": "Atza|test", "expires_in": 3600}
    )
    router.get(f"{regions.EUROPE}{SEARCH}").respond(
        200, json={"numberOfResults": 1, "items": [item]}, headers={"x-amzn-RateLimit-Limit": "5"}
    )
    config = sandbox_config(AmazonSandbox())
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http:
        adapter = AmazonAdapter(config, http, RateLimiter(AmazonAdapter.limits))
        return await adapter.fetch_listing_states(["ST-001"])


class TestOfferReadBack:
    """ItemOfferByMarketplace (listingsItems_2021-08-01.json): offers are per marketplace and
    offerType B2C (shoppers on the retail site) or B2B (Amazon Business). The price read back
    is the one shoppers of the account's marketplace see."""

    async def test_the_b2c_offer_of_the_marketplace_is_read_not_the_first(self) -> None:
        (state,) = await _states_answered_with(
            [
                _offer(MARKETPLACE, "B2B", "999.00"),  # the business price, listed first
                _offer("A1PA6795UKMFR9", "B2C", "15.00"),  # Amazon.de
                _offer(MARKETPLACE, "B2C", "1249.00"),
            ]
        )
        assert state.price == Money(amount=124_900)
        assert (state.remote_id, state.quantity) == ("B0STATE001", 3)

    async def test_without_a_b2c_offer_there_no_price_is_read(self) -> None:
        (state,) = await _states_answered_with(
            [_offer(MARKETPLACE, "B2B", "999.00"), _offer("A1PA6795UKMFR9", "B2C", "15.00")]
        )
        assert state.exists
        assert state.price is None  # nothing a shopper can buy at: not a price to compare
