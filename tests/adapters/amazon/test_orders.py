"""Orders from Amazon: Orders API 2026-01-01 searchOrders mapped to RemoteOrder, paged with a
cursor the core can resume, the two-minute lag, and the sandbox's order book and generator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from adapters.amazon.adapter import AmazonAdapter
from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox, SandboxApp

from adapters.amazon import mapping, wire
from odop_sync.adapter_sdk import (
    Money,
    OrderStatus,
    PayloadRejectedError,
    SchemaValidator,
)
from odop_sync.adapter_sdk.sandbox import specs_dir
from odop_sync.adapter_sdk.sandbox_orders import OrderLife
from odop_sync.adapter_sdk.testing import ConformanceEnv, pull_pass
from tests.adapters.amazon.conftest import (
    BASE_URL,
    TIME_SCALE,
    amazon_env,
    client_for,
    listing,
)

SEARCH = "/orders/2026-01-01/orders"
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def wire_order(status: str = "UNSHIPPED", **extra: Any) -> wire.Order:
    body: dict[str, Any] = {
        "orderId": "171-0000001-0000001",
        "createdTime": "2026-03-01T10:00:00Z",
        "lastUpdatedTime": "2026-03-01T10:05:00Z",
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": mapping.AMAZON_IN},
        "fulfillment": {"fulfillmentStatus": status},
        "orderItems": [
            {
                "orderItemId": "11",
                "quantityOrdered": 2,
                "product": {
                    "sellerSku": "BHD-CARPET-RED",
                    "price": {"unitPrice": {"amount": "12499.50", "currencyCode": "INR"}},
                },
            },
            {
                "orderItemId": "12",
                "quantityOrdered": 1,
                "product": {
                    "sellerSku": "GKP-TERRACOTTA-HORSE",
                    "price": {"unitPrice": {"amount": "1200", "currencyCode": "INR"}},
                },
            },
        ],
    }
    body.update(extra)
    return wire.Order.model_validate(body)


class TestOrderMapping:
    def test_an_unshipped_order_maps_its_lines_by_sku_with_prices_in_paise(self) -> None:
        order = mapping.remote_order(wire_order())
        assert order.order_id == "171-0000001-0000001"
        assert order.status == "UNSHIPPED"
        assert order.canonical_status is OrderStatus.UNSHIPPED
        assert order.purchased_at == T0
        assert order.updated_at == T0 + timedelta(minutes=5)
        assert [(ln.line_id, ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [
            ("11", "BHD-CARPET-RED", 2, Money(amount=1_249_950)),
            ("12", "GKP-TERRACOTTA-HORSE", 1, Money(amount=120_000)),
        ]
        assert all(ln.quantity_cancelled == ln.quantity_returned == 0 for ln in order.lines)

    @pytest.mark.parametrize(
        ("status", "canonical"),
        [
            ("PENDING_AVAILABILITY", OrderStatus.PENDING),
            ("PENDING", OrderStatus.PENDING),
            ("PARTIALLY_SHIPPED", OrderStatus.UNSHIPPED),
            ("SHIPPED", OrderStatus.SHIPPED),
            ("UNFULFILLABLE", OrderStatus.CANCELLED),
        ],
    )
    def test_every_fulfillment_status_has_a_canonical_state(
        self, status: str, canonical: OrderStatus
    ) -> None:
        assert mapping.remote_order(wire_order(status)).canonical_status is canonical

    def test_a_cancelled_order_gives_back_every_unit_of_every_line(self) -> None:
        order = mapping.remote_order(wire_order("CANCELLED"))
        assert order.canonical_status is OrderStatus.CANCELLED
        assert [ln.quantity_cancelled for ln in order.lines] == [2, 1]

    def test_a_cancelled_line_of_a_live_order_cancels_its_unshipped_units(self) -> None:
        raw = wire_order("PARTIALLY_SHIPPED").model_dump(by_alias=True, mode="json")
        raw["orderItems"][0]["fulfillment"] = {"quantityFulfilled": 1, "quantityUnfulfilled": 1}
        raw["orderItems"][0]["cancellation"] = {
            "cancellationExecution": {"cancelledBy": "BUYER", "cancelReason": "late"}
        }
        order = mapping.remote_order(wire.Order.model_validate(raw))
        assert [ln.quantity_cancelled for ln in order.lines] == [1, 0]
        assert order.canonical_status is OrderStatus.UNSHIPPED

    def test_delivered_packages_make_a_delivered_order(self) -> None:
        package = {
            "packageReferenceId": "1",
            "packageStatus": {"status": "DELIVERED", "detailedStatus": "DELIVERED"},
            "packageItems": [{"orderItemId": "11", "quantity": 2}],
        }
        order = mapping.remote_order(wire_order("SHIPPED", packages=[package]))
        assert order.canonical_status is OrderStatus.DELIVERED

    def test_units_back_to_the_seller_are_returned_and_all_of_them_make_a_returned_order(
        self,
    ) -> None:
        back = {"status": "DELIVERED", "detailedStatus": "RETURNED_TO_SELLER"}
        partly = mapping.remote_order(
            wire_order(
                "SHIPPED",
                packages=[
                    {
                        "packageReferenceId": "1",
                        "packageStatus": back,
                        "packageItems": [{"orderItemId": "11", "quantity": 1}],
                    }
                ],
            )
        )
        assert [ln.quantity_returned for ln in partly.lines] == [1, 0]
        assert partly.canonical_status is OrderStatus.DELIVERED
        whole = mapping.remote_order(
            wire_order(
                "SHIPPED",
                packages=[
                    {
                        "packageReferenceId": "1",
                        "packageStatus": back,
                        "packageItems": [
                            {"orderItemId": "11", "quantity": 2},
                            {"orderItemId": "12", "quantity": 1},
                        ],
                    }
                ],
            )
        )
        assert whole.canonical_status is OrderStatus.RETURNED
        assert [ln.quantity_returned for ln in whole.lines] == [2, 1]


async def stocked(env: ConformanceEnv, **quantities: int) -> None:
    """List these SKUs on the sandbox with these quantities, through the adapter."""
    results = await env.adapter.push_listings(
        [listing(sku, quantity=q) for sku, q in quantities.items()]
    )
    assert all(r.ok for r in results)


def book(env: ConformanceEnv) -> AmazonSandbox:
    sandbox = env.sandbox
    assert isinstance(sandbox, AmazonSandbox)
    return sandbox


class TestPullOrders:
    async def test_a_pass_over_several_pages_resumes_from_its_cursor_without_loss_or_repeats(
        self,
    ) -> None:
        async with amazon_env() as env:
            sandbox = book(env)
            start = sandbox.clock.utcnow()
            await stocked(env, **{"SKU-A": 50, "SKU-B": 50})
            placed = [
                sandbox.orders.place(SANDBOX_SELLER, {"SKU-A" if n % 2 else "SKU-B": 1})["id"]
                for n in range(11)
            ]
            sandbox.clock.advance(180)  # past Amazon's two-minute lag
            sandbox.orders.page_cap = 3
            first = await env.adapter.pull_orders(updated_after=start)
            second = await env.adapter.pull_orders(first.cursor, updated_after=start)
            assert first.cursor and second.cursor
            # A new adapter (after a restart) goes on from the stored cursor.
            async with amazon_env(sandbox) as again:
                assert isinstance(again.adapter, AmazonAdapter)
                rest = await pull_pass(again.adapter, updated_after=start, cursor=second.cursor)
            served = [o.order_id for o in (*first.orders, *second.orders, *rest.orders)]
            assert rest.pages == 2  # 11 orders, 3 a page: 4 pages in all
            assert sorted(served) == sorted(placed)
            assert len(set(served)) == len(served)
            assert rest.updated_before is not None
            assert rest.updated_before <= sandbox.clock.utcnow() - timedelta(minutes=2)
            line = first.orders[0].lines[0]
            assert line.sku in ("SKU-A", "SKU-B")
            assert line.unit_price == listing("SKU-A").price

    async def test_an_order_is_served_only_after_amazons_two_minute_lag(self) -> None:
        async with amazon_env() as env:
            sandbox = book(env)
            start = sandbox.clock.utcnow() - timedelta(minutes=10)
            await stocked(env, **{"SKU-A": 5})
            sandbox.orders.place(SANDBOX_SELLER, {"SKU-A": 1})
            early = await env.adapter.pull_orders(updated_after=start)
            assert early.orders == ()
            sandbox.clock.advance(121)
            late = await env.adapter.pull_orders(updated_after=start)
            assert len(late.orders) == 1

    async def test_a_cancellation_shows_up_on_a_later_pull_with_the_new_status(self) -> None:
        async with amazon_env() as env:
            sandbox = book(env)
            start = sandbox.clock.utcnow()
            await stocked(env, **{"SKU-A": 5})
            order_id = sandbox.orders.place(SANDBOX_SELLER, {"SKU-A": 2})["id"]
            assert sandbox.stock(SANDBOX_SELLER, "SKU-A") == (3, listing("SKU-A").price.amount)
            sandbox.clock.advance(600)  # confirmed after five minutes
            pulled = await pull_pass(env.adapter, updated_after=start)
            first, before = pulled.orders, pulled.updated_before
            assert [(o.order_id, o.canonical_status) for o in first] == [
                (order_id, OrderStatus.UNSHIPPED)
            ]
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=sandbox.app), base_url=BASE_URL
            ) as admin:
                cancelled = await admin.post(f"/_sandbox/orders/{SANDBOX_SELLER}/{order_id}/cancel")
            assert cancelled.status_code == 200
            sandbox.clock.advance(180)
            assert before is not None
            # The core's next pass starts at the watermark minus its overlap window.
            later = (
                await pull_pass(env.adapter, updated_after=before - timedelta(minutes=5))
            ).orders
            assert [(o.order_id, o.canonical_status) for o in later] == [
                (order_id, OrderStatus.CANCELLED)
            ]
            assert later[0].lines[0].quantity_cancelled == 2
            assert later[0].updated_at is not None and first[0].updated_at is not None
            assert later[0].updated_at > first[0].updated_at
            assert sandbox.stock(SANDBOX_SELLER, "SKU-A") == (5, listing("SKU-A").price.amount)

    async def test_a_cursor_this_adapter_did_not_hand_out_is_refused(self) -> None:
        async with amazon_env() as env:
            with pytest.raises(PayloadRejectedError):
                await env.adapter.pull_orders("not-a-cursor")

    def test_search_orders_is_limited_at_its_documented_usage_plan(self) -> None:
        assert AmazonAdapter.limits["searchOrders"].rate == 0.0056
        assert AmazonAdapter.limits["searchOrders"].burst == 20


@pytest.fixture
async def client() -> httpx.AsyncClient:
    sandbox = AmazonSandbox(time_scale=1.0, app_credentials=SandboxApp(), seed=7)
    client = await client_for(sandbox)
    client.sandbox = sandbox  # type: ignore[attr-defined]
    return client


def an_hour_ago() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat()


class TestSandboxSearchOrders:
    @pytest.mark.parametrize(
        "params",
        [
            {},  # neither createdAfter nor lastUpdatedAfter
            {"lastUpdatedAfter": "yesterday"},
            {"lastUpdatedAfter": "2026-01-01T00:00:00"},  # no time zone
            {"lastUpdatedAfter": "2026-01-01T00:00:00Z", "createdAfter": "2026-01-01T00:00:00Z"},
            {"lastUpdatedAfter": "2026-01-01T00:00:00Z", "includedData": "EVERYTHING"},
            {"lastUpdatedAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "500"},
            {"lastUpdatedAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "ten"},
            {"lastUpdatedAfter": "2026-01-01T00:00:00Z", "nextToken": "abc"},  # v0's name
            {"lastUpdatedAfter": "2026-01-01T00:00:00Z", "paginationToken": "abc"},
        ],
    )
    async def test_a_search_that_breaks_the_spec_gets_400_invalid_input(
        self, client: httpx.AsyncClient, params: dict[str, str]
    ) -> None:
        response = await client.get(SEARCH, params=params)
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "InvalidInput"

    async def test_an_end_within_the_two_minute_lag_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get(
            SEARCH,
            params={"lastUpdatedAfter": an_hour_ago(), "lastUpdatedBefore": datetime.now(UTC)},
        )
        assert response.status_code == 400
        assert "two minutes" in response.json()["errors"][0]["message"]

    async def test_the_answer_is_valid_against_the_search_orders_response_model(
        self, client: httpx.AsyncClient
    ) -> None:
        sandbox: AmazonSandbox = client.sandbox  # type: ignore[attr-defined]
        async with amazon_env(sandbox) as env:
            await stocked(env, **{"SKU-A": 5, "SKU-B": 5})
        placed = sandbox.orders.place(SANDBOX_SELLER, {"SKU-A": 1, "SKU-B": 2})["id"]
        sandbox.orders.act(SANDBOX_SELLER, placed, OrderStatus.SHIPPED)
        sandbox.orders.act(SANDBOX_SELLER, placed, OrderStatus.RETURNED)
        sandbox.clock.advance(180)
        response = await client.get(
            SEARCH,
            params={
                "lastUpdatedAfter": an_hour_ago(),
                "marketplaceIds": mapping.AMAZON_IN,
                "includedData": "FULFILLMENT,PACKAGES,CANCELLATION",
            },
        )
        assert response.status_code == 200
        assert response.headers["x-amzn-RateLimit-Limit"] == "0.0056"
        spec = json.loads((specs_dir("adapters.amazon") / "orders_2026-01-01.json").read_text())
        body = response.json()
        assert SchemaValidator.for_definition(spec, "SearchOrdersResponse").errors(body) == []
        assert len(body["orders"]) == 1

    async def test_searches_beyond_the_burst_are_throttled(self, client: httpx.AsyncClient) -> None:
        params = {"lastUpdatedAfter": an_hour_ago()}
        answers = [(await client.get(SEARCH, params=params)).status_code for _ in range(21)]
        assert answers == [200] * 20 + [429]


class TestSandboxOrderBook:
    async def test_an_order_placed_on_demand_lowers_the_stock_and_shows_in_the_state(
        self, client: httpx.AsyncClient
    ) -> None:
        sandbox: AmazonSandbox = client.sandbox  # type: ignore[attr-defined]
        async with amazon_env(sandbox) as env:
            await stocked(env, **{"SKU-A": 3})
        placed = await client.post(
            f"/_sandbox/orders/{SANDBOX_SELLER}", json={"sku": "SKU-A", "quantity": 2}
        )
        assert placed.status_code == 201
        too_many = await client.post(
            f"/_sandbox/orders/{SANDBOX_SELLER}", json={"sku": "SKU-A", "quantity": 2}
        )
        assert too_many.status_code == 409
        unknown = await client.post(f"/_sandbox/orders/{SANDBOX_SELLER}", json={"sku": "NOPE"})
        assert unknown.status_code == 404
        state = (await client.get(f"/_sandbox/state/{SANDBOX_SELLER}")).json()
        assert [o["id"] for o in state["orders"]] == [placed.json()["id"]]
        assert [row["quantity"] for row in state["listings"]] == [1]

    async def test_the_generator_never_sells_a_sku_shown_with_no_stock(self) -> None:
        life = OrderLife(orders_per_minute=2, cancel_share=0.2)
        sandbox = AmazonSandbox(time_scale=TIME_SCALE, seed=3, order_life=life)
        async with amazon_env(sandbox) as env:
            await stocked(env, **{"SKU-NONE": 0, "SKU-FEW": 3, "SKU-MANY": 400})
        for _ in range(24):
            sandbox.clock.advance(3 * 3600)
            sandbox.orders.advance(SANDBOX_SELLER)
            for sku in ("SKU-NONE", "SKU-FEW", "SKU-MANY"):
                shown = sandbox.stock(SANDBOX_SELLER, sku)
                assert shown is not None and shown[0] >= 0
        orders = list(sandbox.orders.orders(SANDBOX_SELLER))
        sold = {line["sku"] for order in orders for line in order["lines"]}
        assert len(orders) > 100
        assert "SKU-NONE" not in sold
        assert {o["status"] for o in orders} >= {"cancelled", "shipped", "delivered"}
        few = sum(
            ln["quantity"] - ln["cancelled"]
            for o in orders
            for ln in o["lines"]
            if ln["sku"] == "SKU-FEW"
        )
        assert few + sandbox.stock(SANDBOX_SELLER, "SKU-FEW")[0] == 3  # type: ignore[index]

    async def test_the_same_seed_generates_the_same_orders(self) -> None:
        def run() -> list[tuple[str, str, str]]:
            sandbox = AmazonSandbox(
                time_scale=1.0, seed=11, order_life=OrderLife(orders_per_minute=5)
            )
            for sku in ("SKU-A", "SKU-B", "SKU-C"):
                sandbox._store(SANDBOX_SELLER, sku, "PRODUCT", listing_attributes(50))
            sandbox.orders.advance(SANDBOX_SELLER)  # the generator starts for this seller
            sandbox.clock.advance(3600)
            return [
                (o["id"], o["lines"][0]["sku"], o["status"])
                for o in sandbox.orders.orders(SANDBOX_SELLER)
            ]

        first = run()
        assert len(first) > 50
        assert first == run()


def listing_attributes(quantity: int) -> dict[str, Any]:
    return {
        "purchasable_offer": mapping.purchasable_offer(
            Money(amount=99_900), None, mapping.AMAZON_IN
        ),
        "fulfillment_availability": mapping.fulfillment_availability(quantity),
    }
