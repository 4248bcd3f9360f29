"""PATCH /v1/variants/{sku}: price and stock changes, checked by the batch rules and explained."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.models import AuditRecord, StockMovement
from tests.api.helpers import PRODUCER, item, wait_for_batch
from tests.conftest import MakeAgency, MakeKey, bearer


async def _seed(client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey) -> str:
    await make_agency("up-odop")
    key = await make_key("agency", "up-odop")
    r = await client.post(
        "/v1/batches", json={"producers": [PRODUCER], "items": [item("V-1")]}, headers=bearer(key)
    )
    await wait_for_batch(client, key, r.json()["id"])
    return key


class TestPatchVariant:
    async def test_price_and_stock_change_is_applied_audited_and_in_the_ledger(
        self,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        key = await _seed(client, make_agency, make_key)
        r = await client.patch(
            "/v1/variants/V-1", json={"price": "14999", "stock": 1}, headers=bearer(key)
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["price"], body["stock_on_hand"], body["version"]) == ("14999.00", 1, 2)
        async with sessionmaker() as session:
            moves = (
                await session.execute(
                    select(
                        StockMovement.delta, StockMovement.reason, StockMovement.balance_after
                    ).order_by(StockMovement.id)
                )
            ).all()
            audit = await session.scalar(
                select(AuditRecord).where(
                    AuditRecord.entity == "variant", AuditRecord.action == "update"
                )
            )
        assert [(d, r.value, b) for d, r, b in moves] == [(4, "batch", 4), (-3, "manual", 1)]
        assert audit is not None
        assert audit.before == {"price_paise": 1599900, "stock_on_hand": 4}
        assert audit.after == {"price_paise": 1499900, "stock_on_hand": 1}
        assert audit.actor.startswith("key:")

    async def test_a_price_above_mrp_is_refused_naming_the_field_and_nothing_changes(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _seed(client, make_agency, make_key)
        r = await client.patch("/v1/variants/V-1", json={"price": "99999"}, headers=bearer(key))
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == ["price"]
        product = (await client.get("/v1/products", headers=bearer(key))).json()["items"][0]
        assert product["variants"][0]["price"] == "15999.00"

    async def test_an_unknown_field_is_refused(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _seed(client, make_agency, make_key)
        r = await client.patch("/v1/variants/V-1", json={"prize": "1"}, headers=bearer(key))
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "prize"
