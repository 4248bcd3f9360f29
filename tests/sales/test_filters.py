"""GET /v1/sales/filters: the values a dashboard's drop-downs offer, scoped like the summary."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.db import transaction
from odop_sync.models import MarketplaceAccount, Producer, ProducerKind, Product
from tests.conftest import MakeKey, bearer
from tests.orders.helpers import Shop


async def _filters(client: httpx.AsyncClient, key: str) -> dict[str, Any]:
    r = await client.get("/v1/sales/filters", headers=bearer(key))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _khadi_catalog(sm: async_sessionmaker[AsyncSession], shop: Shop) -> int:
    """The other agency (khadi-board): one khadi unit in Lucknow with one product, and a
    Flipkart account besides its Amazon one."""
    async with transaction(sm) as s:
        unit = Producer(
            agency_id=shop.other_agency_id, ref="kvic-lko", name_en="Lucknow Khadi Unit",
            name_hi="लखनऊ खादी इकाई", kind=ProducerKind.KHADI_UNIT, district_code="UP-lucknow",
        )  # fmt: skip
        s.add(unit)
        await s.flush()
        s.add(
            Product(
                agency_id=shop.other_agency_id, producer_id=unit.id, ref="KHADI-KURTA",
                title_en="Khadi kurta", district_code="UP-lucknow", craft="khadi weaving",
                hsn_code="6211", gst_rate=5,
            )
        )  # fmt: skip
        s.add(
            MarketplaceAccount(
                agency_id=shop.other_agency_id, adapter="flipkart", name="Khadi on Flipkart",
                credentials_encrypted="-", enabled=False,
            )
        )  # fmt: skip
        # One of the first agency's products sits in a district of the district list.
        await s.execute(
            update(Product)
            .where(Product.id == shop.product_ids["VNS-SAREE"])
            .values(district_code="UP-varanasi")
        )
        return unit.id


class TestSalesFilters:
    async def test_an_agency_key_sees_its_own_catalog_and_accounts(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        await _khadi_catalog(sessionmaker, shop)
        body = await _filters(client, await make_key("agency", "up-odop"))
        # By English name: codes outside the district list stand for their own name.
        assert body["districts"] == [
            {"code": "bhadohi", "name_en": "bhadohi", "name_hi": None},
            {"code": "firozabad", "name_en": "firozabad", "name_hi": None},
            {"code": "UP-varanasi", "name_en": "Varanasi", "name_hi": "वाराणसी"},
        ]
        assert body["crafts"] == ["banarasi silk", "carpet weaving", "glass work"]
        assert body["marketplaces"] == ["amazon", "flipkart"]
        assert body["producers"] == [
            {"id": shop.producer_ids["glass-unit"], "name_en": "glass-unit", "name_hi": None,
             "kind": "self_help_group", "district": "firozabad"},
            {"id": shop.producer_ids["silk-shg"], "name_en": "silk-shg", "name_hi": None,
             "kind": "self_help_group", "district": "varanasi"},
            {"id": shop.producer_ids["weavers"], "name_en": "weavers", "name_hi": None,
             "kind": "self_help_group", "district": "bhadohi"},
        ]  # fmt: skip

    async def test_a_partner_sees_only_the_agencies_granted_to_it(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        unit_id = await _khadi_catalog(sessionmaker, shop)
        body = await _filters(client, await make_key("partner", grants=["khadi-board"]))
        assert body == {
            "districts": [{"code": "UP-lucknow", "name_en": "Lucknow", "name_hi": "लखनऊ"}],
            "crafts": ["khadi weaving"],
            "marketplaces": ["amazon", "flipkart"],
            "producers": [
                {"id": unit_id, "name_en": "Lucknow Khadi Unit", "name_hi": "लखनऊ खादी इकाई",
                 "kind": "khadi_unit", "district": "UP-lucknow"},
            ],
        }  # fmt: skip
        nothing = await _filters(client, await make_key("partner", grants=[]))
        assert nothing == {"districts": [], "crafts": [], "marketplaces": [], "producers": []}

    async def test_admin_sees_every_agency(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        await _khadi_catalog(sessionmaker, shop)
        body = await _filters(client, await make_key("admin"))
        assert [d["code"] for d in body["districts"]] == [
            "bhadohi", "firozabad", "UP-lucknow", "UP-varanasi",
        ]  # fmt: skip
        assert body["crafts"] == ["banarasi silk", "carpet weaving", "glass work", "khadi weaving"]
        assert body["marketplaces"] == ["amazon", "flipkart"]
        assert len(body["producers"]) == 4

    async def test_without_a_key_it_is_401(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/v1/sales/filters")
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
