"""Orders from Flipkart: the Shipment V3 search for pre-dispatch, post-dispatch and cancelled
shipments mapped to RemoteOrder, followed through `nextPageUrl` with a resumable cursor, and the
sandbox's shipment search, order book and generator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from adapters.flipkart.adapter import FlipkartAdapter, _next_page_path
from adapters.flipkart.sandbox import SANDBOX_SELLER, FlipkartSandbox

from adapters.flipkart import mapping, wire
from odop_sync.adapter_sdk import Money, OrderStatus
from odop_sync.adapter_sdk.sandbox_orders import OrderLife
from odop_sync.adapter_sdk.testing import ConformanceEnv, pull_pass
from tests.adapters.flipkart.conftest import (
    BASE_URL,
    TIME_SCALE,
    client_for,
    flipkart_env,
    listing,
)

FILTER = "/sellers/v3/shipments/filter"


def shipment(*statuses: str, order_id: str = "OD1", updated: str = "2026-03-01T11:00:00Z") -> Any:
    return wire.ShipmentDetail.model_validate(
        {
            "shipmentId": "SHP1",
            "updatedAt": updated,
            "orderItems": [
                {
                    "orderItemId": f"{order_id}-{n}",
                    "orderId": order_id,
                    "orderDate": "2026-03-01T10:00:00Z",
                    "status": status,
                    "quantity": 2,
                    "sku": f"SKU-{n}",
                    "priceComponents": {"sellingPrice": 2499, "totalPrice": 2549},
                }
                for n, status in enumerate(statuses, start=1)
            ],
        }
    )


class TestOrderMapping:
    def test_order_items_become_lines_with_the_unit_price_in_paise(self) -> None:
        [order] = mapping.remote_orders([shipment("APPROVED")])
        assert order.order_id == "OD1"
        assert order.canonical_status is OrderStatus.UNSHIPPED
        assert order.purchased_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
        assert order.updated_at == datetime(2026, 3, 1, 11, tzinfo=UTC)
        [line] = order.lines
        assert (line.line_id, line.sku, line.quantity) == ("OD1-1", "SKU-1", 2)
        assert line.unit_price == Money(amount=124_950)  # ₹2,499 for two units

    @pytest.mark.parametrize(
        ("statuses", "canonical"),
        [
            (("PACKED",), OrderStatus.UNSHIPPED),
            (("PICKUP_COMPLETE",), OrderStatus.SHIPPED),
            (("DELIVERED",), OrderStatus.DELIVERED),
            (("RETURN_REQUESTED",), OrderStatus.DELIVERED),
            (("RETURNED",), OrderStatus.RETURNED),
            (("CANCELLED",), OrderStatus.CANCELLED),
            (("CANCELLED", "SHIPPED"), OrderStatus.SHIPPED),
            (("CANCELLED", "RETURNED"), OrderStatus.RETURNED),
        ],
    )
    def test_the_order_state_follows_its_items(
        self, statuses: tuple[str, ...], canonical: OrderStatus
    ) -> None:
        [order] = mapping.remote_orders([shipment(*statuses)])
        assert order.canonical_status is canonical

    def test_cancelled_and_returned_items_give_back_their_units(self) -> None:
        [order] = mapping.remote_orders([shipment("CANCELLED", "RETURNED", "DELIVERED")])
        assert [(ln.quantity_cancelled, ln.quantity_returned) for ln in order.lines] == [
            (2, 0),
            (0, 2),
            (0, 0),
        ]

    def test_shipments_of_one_order_on_a_page_make_one_order(self) -> None:
        orders = mapping.remote_orders(
            [shipment("APPROVED"), shipment("SHIPPED", updated="2026-03-01T12:00:00Z")]
        )
        assert len(orders) == 1
        assert orders[0].updated_at == datetime(2026, 3, 1, 12, tzinfo=UTC)

    def test_a_next_page_url_is_always_sent_to_the_accounts_own_endpoint(self) -> None:
        assert _next_page_path(
            "https://elsewhere.example/sellers/v3/shipments/filter?next_token=a"
        ) == ("/sellers/v3/shipments/filter?next_token=a")
        assert _next_page_path("/v3/shipments/filter?next_token=b") == (
            "/sellers/v3/shipments/filter?next_token=b"
        )


async def stocked(env: ConformanceEnv, **quantities: int) -> None:
    results = await env.adapter.push_listings(
        [listing(sku, quantity=q) for sku, q in quantities.items()]
    )
    assert all(r.ok for r in results), results


def sandbox_of(env: ConformanceEnv) -> FlipkartSandbox:
    assert isinstance(env.sandbox, FlipkartSandbox)
    return env.sandbox


class TestPullOrders:
    async def test_a_pass_covers_all_three_searches_over_pages_and_resumes_from_its_cursor(
        self,
    ) -> None:
        async with flipkart_env() as env:
            sandbox = sandbox_of(env)
            start = sandbox.clock.utcnow()
            await stocked(env, **{"SKU-A": 50})
            placed = [sandbox.orders.place(SANDBOX_SELLER, {"SKU-A": 1})["id"] for _ in range(9)]
            for order_id in placed[:3]:
                sandbox.orders.act(SANDBOX_SELLER, order_id, OrderStatus.CANCELLED)
            for order_id in placed[3:6]:
                sandbox.orders.act(SANDBOX_SELLER, order_id, OrderStatus.SHIPPED)
            sandbox.orders.page_cap = 2
            first = await env.adapter.pull_orders(updated_after=start)
            assert first.cursor is not None
            async with flipkart_env(sandbox) as again:  # a restart goes on from the cursor
                assert isinstance(again.adapter, FlipkartAdapter)
                rest = await pull_pass(again.adapter, updated_after=start, cursor=first.cursor)
            served = [o.order_id for o in (*first.orders, *rest.orders)]
            assert sorted(served) == sorted(placed)
            assert len(set(served)) == len(served)
            assert rest.updated_before is None  # Flipkart reports no watermark
            assert rest.pages + 1 == 6  # 2 + 2 pages of three orders, and 2 for the last three
            states = {o.order_id: o.canonical_status for o in (*first.orders, *rest.orders)}
            assert [states[i] for i in placed] == [OrderStatus.CANCELLED] * 3 + [
                OrderStatus.SHIPPED
            ] * 3 + [OrderStatus.UNSHIPPED] * 3
            calls = sandbox.state.calls
            assert sum(n for (_, op), n in calls.items() if op.startswith("searchPre")) == 6

    async def test_a_cancellation_shows_up_on_a_later_pull_with_the_new_status(self) -> None:
        async with flipkart_env() as env:
            sandbox = sandbox_of(env)
            start = sandbox.clock.utcnow()
            await stocked(env, **{"SKU-A": 4})
            order_id = sandbox.orders.place(SANDBOX_SELLER, {"SKU-A": 3})["id"]
            first = (await pull_pass(env.adapter, updated_after=start)).orders
            assert [(o.order_id, o.canonical_status) for o in first] == [
                (order_id, OrderStatus.UNSHIPPED)
            ]
            assert first[0].lines[0].unit_price == listing("SKU-A").price.model_copy(
                update={"amount": listing("SKU-A").price.amount // 100 * 100}
            )
            sandbox.clock.advance(60)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=sandbox.app), base_url=BASE_URL
            ) as admin:
                answer = await admin.post(f"/_sandbox/orders/{SANDBOX_SELLER}/{order_id}/cancel")
            assert answer.status_code == 200
            newest = first[0].updated_at
            assert newest is not None
            later = (
                await pull_pass(env.adapter, updated_after=newest - timedelta(minutes=5))
            ).orders
            assert [(o.order_id, o.canonical_status) for o in later] == [
                (order_id, OrderStatus.CANCELLED)
            ]
            assert later[0].lines[0].quantity_cancelled == 3
            assert sandbox.stock(SANDBOX_SELLER, "SKU-A") is not None
            assert sandbox.stock(SANDBOX_SELLER, "SKU-A")[0] == 4  # type: ignore[index]


@pytest.fixture
async def client() -> httpx.AsyncClient:
    sandbox = FlipkartSandbox(time_scale=1.0, seed=5)
    client = await client_for(sandbox)
    client.sandbox = sandbox  # type: ignore[attr-defined]
    return client


class TestSandboxShipmentSearch:
    @pytest.mark.parametrize(
        "body",
        [
            {"filter": {}},  # type is required
            {"filter": {"type": "everything"}},
            {"filter": {"type": "preDispatch", "states": ["SHIPPED"]}},  # not a pre-dispatch state
            {"filter": {"type": "cancelled", "states": ["LOST"]}},
            {"filter": {"type": "preDispatch", "modifiedDate": {"from": "yesterday"}}},
            {"filter": {"type": "preDispatch"}, "sort": {"field": "price"}},
            {"filter": {"type": "preDispatch"}, "pagination": {"pageSize": "ten"}},
        ],
    )
    async def test_a_search_that_breaks_the_spec_gets_400(
        self, client: httpx.AsyncClient, body: dict[str, Any]
    ) -> None:
        response = await client.post(FILTER, json=body)
        assert response.status_code == 400
        assert response.json()["errors"][0]["severity"] == "ERROR"

    @pytest.mark.parametrize("query", ["", "?next_token=garbage", "?next_token=a&page=2"])
    async def test_a_next_page_it_did_not_hand_out_gets_400(
        self, client: httpx.AsyncClient, query: str
    ) -> None:
        assert (await client.get(FILTER + query)).status_code == 400

    async def test_pages_follow_next_page_url_while_has_more(
        self, client: httpx.AsyncClient
    ) -> None:
        sandbox: FlipkartSandbox = client.sandbox  # type: ignore[attr-defined]
        async with flipkart_env(sandbox) as env:
            await stocked(env, **{"SKU-A": 30})
        for _ in range(25):
            sandbox.orders.place(SANDBOX_SELLER, {"SKU-A": 1})
        first = (await client.post(FILTER, json={"filter": {"type": "preDispatch"}})).json()
        assert first["hasMore"] is True
        assert len(first["shipments"]) == 20
        second = (await client.get(first["nextPageUrl"])).json()
        assert second["hasMore"] is False
        assert "nextPageUrl" not in second
        assert len(second["shipments"]) == 5
        item = second["shipments"][0]["orderItems"][0]
        assert (item["sku"], item["status"], item["quantity"]) == ("SKU-A", "APPROVED", 1)
        assert item["fsn"] == listing("SKU-A").marketplace_attributes["fsn"]
        empty = await client.post(FILTER, json={"filter": {"type": "cancelled"}})
        assert empty.json() == {"hasMore": False, "shipments": []}

    async def test_orders_are_in_the_state_and_the_generator_never_sells_an_empty_sku(
        self,
    ) -> None:
        sandbox = FlipkartSandbox(
            time_scale=TIME_SCALE,
            seed=9,
            order_life=OrderLife(orders_per_minute=2, return_share=0.3),
        )
        async with flipkart_env(sandbox) as env:
            await stocked(env, **{"SKU-NONE": 0, "SKU-FEW": 2, "SKU-MANY": 300})
        for _ in range(30):
            sandbox.clock.advance(12 * 3600)
            sandbox.orders.advance(SANDBOX_SELLER)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sandbox.app), base_url=BASE_URL
        ) as admin:
            state = (await admin.get(f"/_sandbox/state/{SANDBOX_SELLER}")).json()
        sold = {line["sku"] for order in state["orders"] for line in order["lines"]}
        assert len(state["orders"]) > 100
        assert "SKU-NONE" not in sold
        assert {o["status"] for o in state["orders"]} >= {"cancelled", "delivered", "returned"}
        assert all(row["quantity"] >= 0 for row in state["listings"])
