"""The sandbox speaks SP-API: spec validation, Amazon error bodies, throttling, state."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox

from tests.adapters.amazon.conftest import client_for

PUT = f"/listings/2021-08-01/items/{SANDBOX_SELLER}/SKU-1?marketplaceIds=A21TJRUUN4KGV"


@pytest.fixture
async def sandbox_client() -> httpx.AsyncClient:
    sandbox = AmazonSandbox(time_scale=1.0)
    client = await client_for(sandbox)
    client.sandbox = sandbox  # type: ignore[attr-defined]
    return client


class TestAmazonSandbox:
    async def test_a_body_that_breaks_the_spec_gets_400_invalid_input(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        # requirements must be one of LISTING, LISTING_PRODUCT_ONLY, LISTING_OFFER_ONLY and
        # productType is required (ListingsItemPutRequest in listingsItems_2021-08-01.json).
        response = await sandbox_client.put(
            PUT, json={"requirements": "EVERYTHING", "attributes": {}}
        )
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["code"] == "InvalidInput"
        assert "productType" in error["details"]
        assert "requirements" in error["details"]

    async def test_a_missing_required_attribute_is_invalid_with_an_issue(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        """HOME's published schema requires brand, bullet_point, country_of_origin, item_name,
        item_type_keyword, product_description and supplier_declared_dg_hz_regulation; a
        LISTING (product and offer) needs condition_type as well (listingsItems_2021-08-01.json,
        putListingsItem example VALIDATION_INVALID). Each missing one is an issue shaped as that
        example shows it."""
        attributes = {"item_name": [{"value": "Brass thali", "marketplace_id": "A21TJRUUN4KGV"}]}
        response = await sandbox_client.put(
            PUT, json={"productType": "HOME", "requirements": "LISTING", "attributes": attributes}
        )
        body = response.json()
        assert response.status_code == 200
        assert body["status"] == "INVALID"
        missing = {i["attributeNames"][0] for i in body["issues"] if i["code"] == "90220"}
        assert missing == {
            "brand",
            "bullet_point",
            "country_of_origin",
            "item_type_keyword",
            "product_description",
            "supplier_declared_dg_hz_regulation",
            "condition_type",
        }
        brand = next(i for i in body["issues"] if i["attributeNames"] == ["brand"])
        assert brand == {
            "code": "90220",
            "message": "'brand' is required but not supplied.",
            "severity": "ERROR",
            "attributeNames": ["brand"],
            "categories": ["MISSING_ATTRIBUTE"],
        }
        assert sandbox_client.sandbox.listing_skus(SANDBOX_SELLER) == set()  # type: ignore[attr-defined]

    async def test_a_product_only_listing_needs_no_offer_attributes(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        """condition_type is an offer attribute: LISTING_PRODUCT_ONLY does not ask for it."""
        attributes = {"item_name": [{"value": "Brass thali", "marketplace_id": "A21TJRUUN4KGV"}]}
        response = await sandbox_client.put(
            PUT,
            json={
                "productType": "HOME",
                "requirements": "LISTING_PRODUCT_ONLY",
                "attributes": attributes,
            },
        )
        missing = {i["attributeNames"][0] for i in response.json()["issues"]}
        assert "condition_type" not in missing
        assert "country_of_origin" in missing

    async def test_calls_without_a_valid_token_are_refused_the_amazon_way(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        response = await sandbox_client.get(PUT, headers={"x-amz-access-token": "Atza|forged"})
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "Unauthorized"

    async def test_more_calls_than_the_burst_are_throttled_with_the_rate_header(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        statuses = [
            (await sandbox_client.get(PUT.replace("SKU-1", f"S{i}"))).status_code for i in range(12)
        ]
        # getListingsItem: rate 5, burst 10; unknown SKUs answer 404 until the bucket runs dry.
        assert statuses[:10] == [404] * 10
        assert 429 in statuses[10:]
        throttled = await sandbox_client.get(PUT)
        assert throttled.headers["x-amzn-RateLimit-Limit"] == "5"
        assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"

    async def test_faults_can_be_injected_over_http(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        added = await sandbox_client.post(
            "/_sandbox/faults", json={"status": 503, "operation": "getListingsItem", "times": 1}
        )
        assert added.status_code == 201
        assert (await sandbox_client.get(PUT)).status_code == 503
        assert (await sandbox_client.get(PUT)).status_code == 404
        await sandbox_client.delete("/_sandbox/faults")
        assert (await sandbox_client.get("/_sandbox/faults")).json()["faults"] == []

    async def test_state_endpoint_lists_what_the_sandbox_holds(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        state = (await sandbox_client.get(f"/_sandbox/state/{SANDBOX_SELLER}")).json()
        assert state["sellerId"] == SANDBOX_SELLER
        assert state["listings"] == []


SEARCH = f"/listings/2021-08-01/items/{SANDBOX_SELLER}?marketplaceIds=A21TJRUUN4KGV"


class TestErrorHeaders:
    """Every answer of an SP-API operation, refusals included, carries x-amzn-RequestId and the
    x-amzn-RateLimit-Limit of the operation's usage plan, as successful ones do. The rates are
    the models' (listingsItems_2021-08-01.json: 5 a second for the item operations;
    feeds_2021-06-30.json getFeed: 2; orders_2026-01-01.json searchOrders: 0.0056)."""

    @pytest.mark.parametrize(
        ("method", "path", "body", "headers", "status", "rate"),
        [
            ("PUT", PUT, {"attributes": {}}, {}, 400, "5"),  # productType missing
            ("PUT", PUT.replace("marketplaceIds", "marketplace"), {}, {}, 400, "5"),
            ("GET", PUT, None, {"x-amz-access-token": "Atza|forged"}, 403, "5"),
            ("GET", PUT, None, {}, 404, "5"),  # getListingsItem of a SKU it does not hold
            ("GET", "/feeds/2021-06-30/feeds/123", None, {}, 404, "2"),
            (
                "GET",
                "/orders/2026-01-01/orders?marketplaceIds=A21TJRUUN4KGV",
                None,
                {},
                400,
                "0.0056",
            ),  # neither createdAfter nor lastUpdatedAfter
            ("GET", SEARCH + "&pageSize=50", None, {}, 400, "5"),
        ],
    )
    async def test_a_refusal_carries_the_request_id_and_the_rate(
        self,
        sandbox_client: httpx.AsyncClient,
        method: str,
        path: str,
        body: dict[str, object] | None,
        headers: dict[str, str],
        status: int,
        rate: str,
    ) -> None:
        response = await sandbox_client.request(method, path, json=body, headers=headers)
        assert response.status_code == status, response.text
        assert response.json()["errors"][0]["code"]
        assert response.headers["x-amzn-RateLimit-Limit"] == rate
        assert response.headers["x-amzn-RequestId"]

    async def test_an_injected_fault_carries_them_too(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        sandbox: AmazonSandbox = sandbox_client.sandbox  # type: ignore[attr-defined]
        for status in (500, 503):
            sandbox.faults.inject("status", status=status, operation="searchListingsItems")
            response = await sandbox_client.get(SEARCH)
            assert response.status_code == status
            assert response.headers["x-amzn-RateLimit-Limit"] == "5"
            assert response.headers["x-amzn-RequestId"]

    async def test_each_answer_has_its_own_request_id(
        self, sandbox_client: httpx.AsyncClient
    ) -> None:
        ids = {(await sandbox_client.get(PUT)).headers["x-amzn-RequestId"] for _ in range(3)}
        assert len(ids) == 3


class TestDefinitions:
    """The sandbox's product type definitions are its own data (sandbox_product_types.toml),
    each list with where it came from."""

    def test_every_type_the_demo_maps_to_has_a_definition_with_its_source(self) -> None:
        definitions = AmazonSandbox().definitions
        # The types adapters/amazon/product_types.toml can choose for ODOP crafts.
        demo_types = {
            "RUG", "KURTA", "SAREE", "HANDBAG", "SHOES", "TOY_FIGURE", "VASE", "FIGURINE",
            "HOME", "DRINKING_CUP", "PERSONAL_FRAGRANCE", "FABRIC", "BASKET",
        }  # fmt: skip
        assert demo_types <= set(definitions.types)
        assert set(definitions.sources.values()) <= {"published", "assumed"}
        assert {t for t, s in definitions.sources.items() if s == "published"} >= {
            "HOME", "FIGURINE", "BASKET", "TOY_FIGURE"
        }  # fmt: skip

    async def test_an_operators_product_type_map_does_not_change_amazons_rules(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An operator's copy of the adapter's map (ODOP_CONFIG_DIR) that asks nothing of HOME:
        the sandbox still holds a HOME listing to HOME's published schema."""
        (tmp_path / "amazon").mkdir()
        (tmp_path / "amazon" / "product_types.toml").write_text(
            'default_product_type = "HOME"\n'
            '[product_types.HOME]\nitem_type_keyword = "home-decor"\nrequired = []\n'
        )
        monkeypatch.setenv("ODOP_CONFIG_DIR", str(tmp_path))
        client = await client_for(AmazonSandbox(time_scale=1.0))
        attributes = {"item_name": [{"value": "Brass thali", "marketplace_id": "A21TJRUUN4KGV"}]}
        response = await client.put(PUT, json={"productType": "HOME", "attributes": attributes})
        assert response.json()["status"] == "INVALID"
        missing = {i["attributeNames"][0] for i in response.json()["issues"]}
        assert "country_of_origin" in missing
