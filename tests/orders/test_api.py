"""GET /v1/orders and /v1/orders/{id}: lines, status history, filters; another agency's order
looks like no order at all."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.adapter_sdk import OrderStatus
from tests.conftest import MakeKey, bearer
from tests.orders.helpers import Shop, ingest_page, line, order


class TestOrdersApi:
    async def test_an_order_shows_its_lines_and_status_history(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        key = await make_key("agency", "up-odop")
        placed = order("A-1", line("BHD-RUG-RED", 2), line("NO-SUCH-SKU"))
        await ingest_page(sessionmaker, shop.amazon, placed)
        await ingest_page(
            sessionmaker, shop.amazon,
            order("A-1", line("BHD-RUG-RED", 2), line("NO-SUCH-SKU"), status=OrderStatus.SHIPPED,
                  updated_minutes=5),
        )  # fmt: skip
        listed = (await client.get("/v1/orders", headers=bearer(key))).json()
        assert [o["marketplace_order_id"] for o in listed["items"]] == ["A-1"]
        assert listed["items"][0]["marketplace"] == "amazon"
        r = await client.get(f"/v1/orders/{listed['items'][0]['id']}", headers=bearer(key))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "shipped"
        assert body["total"] == "3100.00"
        assert [(h["from_status"], h["to_status"]) for h in body["history"]] == [
            (None, "unshipped"), ("unshipped", "shipped")
        ]  # fmt: skip
        lines = {row["sku"]: row for row in body["lines"]}
        assert lines["NO-SUCH-SKU"]["unmatched"] is True
        assert lines["BHD-RUG-RED"]["stock_out"] == 2

    async def test_filters_narrow_the_list(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        key = await make_key("agency", "up-odop")
        await ingest_page(sessionmaker, shop.amazon, order("A-1", line("FZD-BANGLE")))
        await ingest_page(
            sessionmaker, shop.flipkart,
            order("F-1", line("VNS-SAREE"), status=OrderStatus.CANCELLED),
        )  # fmt: skip

        async def ids(**params: object) -> list[str]:
            r = await client.get("/v1/orders", params=params, headers=bearer(key))
            assert r.status_code == 200, r.text
            return [o["marketplace_order_id"] for o in r.json()["items"]]

        assert await ids(account_id=shop.flipkart.id) == ["F-1"]
        assert await ids(status="cancelled") == ["F-1"]
        assert await ids(sku="FZD-BANGLE") == ["A-1"]
        assert await ids(**{"from": "2025-11-04"}) == []
        assert await ids(**{"from": "2025-11-03", "to": "2025-11-03"}) == ["A-1", "F-1"]

    async def test_another_agencys_order_is_not_found(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        await ingest_page(sessionmaker, shop.other_account, order("K-1", line("KHADI")))
        key = await make_key("agency", "up-odop")
        admin = await make_key("admin")
        listed = (await client.get("/v1/orders", headers=bearer(admin))).json()
        order_id = listed["items"][0]["id"]
        r = await client.get(f"/v1/orders/{order_id}", headers=bearer(key))
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        assert (await client.get("/v1/orders", headers=bearer(key))).json()["items"] == []
