"""What the partner dashboard reads from /v1/sales/summary: cancelled and returned units,
freshness per marketplace, and names for display; and the migration that backfills the
cancelled and returned units of rollups written before it."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.adapter_sdk import OrderStatus
from odop_sync.config import Settings
from odop_sync.db import create_engine, create_sessionmaker, transaction
from odop_sync.models import OrderCursor, Producer, Product, SalesRollup
from tests.conftest import MakeKey, _create_pg_database, _drop_pg_database, bearer
from tests.orders.helpers import Shop, ingest_page, line, make_shop, order

S = OrderStatus
RANGE = {"from": "2025-10-01", "to": "2026-01-31"}


async def _summary(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    r = await client.get("/v1/sales/summary", params={**RANGE, **params}, headers=bearer(key))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _five_units_two_cancelled_one_returned(
    sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
) -> None:
    """One order of 5 bangles (₹299 each): pulled new, then with 2 units cancelled, then
    delivered with 1 of the other 3 returned."""
    pulls = [
        order("A-1", line("FZD-BANGLE", 5, line_id="L1")),
        order("A-1", line("FZD-BANGLE", 5, line_id="L1", cancelled=2), updated_minutes=60),
        order(
            "A-1",
            line("FZD-BANGLE", 5, line_id="L1", cancelled=2, returned=1),
            status=S.DELIVERED,
            updated_minutes=7 * 24 * 60,
        ),
    ]
    for pulled in pulls:
        await ingest_page(sessionmaker, shop.amazon, pulled)


class TestCancelledAndReturnedUnits:
    async def test_an_order_of_five_with_two_cancelled_and_one_returned(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        key = await make_key("agency", "up-odop")
        await _five_units_two_cancelled_one_returned(sessionmaker, shop)
        for grouping in ("", "district", "month", "product,day"):
            body = await _summary(client, key, group_by=grouping)
            for figures in (body["totals"], body["rows"][0]):
                assert figures["units"] == 5, grouping
                assert figures["units_cancelled"] == 2, grouping
                assert figures["units_returned"] == 1, grouping
                assert figures["units_net"] == 2, grouping
                assert figures["gross"] == "1495.00", grouping  # 5 × 299
                assert figures["net"] == "598.00", grouping  # 2 × 299

    async def test_a_cancelled_order_counts_all_its_units_cancelled(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        key = await make_key("agency", "up-odop")
        await ingest_page(sessionmaker, shop.flipkart, order("F-1", line("VNS-SAREE", 3)))
        await ingest_page(
            sessionmaker, shop.flipkart,
            order("F-1", line("VNS-SAREE", 3), status=S.CANCELLED, updated_minutes=5),
        )  # fmt: skip
        totals = (await _summary(client, key))["totals"]
        assert (totals["units"], totals["units_cancelled"], totals["units_returned"]) == (3, 3, 0)
        assert totals["units_net"] == 0


class TestFreshnessPerMarketplace:
    async def test_each_marketplace_has_the_oldest_pull_of_its_accounts(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        amazon_pull = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
        flipkart_pull = datetime(2025, 11, 2, 21, 30, tzinfo=UTC)
        other_pull = datetime(2025, 10, 1, 0, 0, tzinfo=UTC)  # the other agency's Amazon account
        async with transaction(sessionmaker) as s:
            s.add_all(
                [
                    OrderCursor(account_id=shop.amazon.id, pulled_at=amazon_pull),
                    OrderCursor(account_id=shop.flipkart.id, pulled_at=flipkart_pull),
                    OrderCursor(account_id=shop.other_account.id, pulled_at=other_pull),
                ]
            )
        agency = await _summary(client, await make_key("agency", "up-odop"))
        assert agency["as_of_by_marketplace"] == [
            {"marketplace": "amazon", "as_of": "2025-11-03T09:00:00Z"},
            {"marketplace": "flipkart", "as_of": "2025-11-02T21:30:00Z"},
        ]
        assert agency["as_of"] == "2025-11-02T21:30:00Z"
        admin = await _summary(client, await make_key("admin"))
        assert admin["as_of_by_marketplace"] == [
            {"marketplace": "amazon", "as_of": "2025-10-01T00:00:00Z"},
            {"marketplace": "flipkart", "as_of": "2025-11-02T21:30:00Z"},
        ]

    async def test_a_marketplace_never_pulled_has_no_as_of(
        self, client: httpx.AsyncClient, shop: Shop, make_key: MakeKey
    ) -> None:
        body = await _summary(client, await make_key("partner", grants=["khadi-board"]))
        assert body["as_of_by_marketplace"] == [{"marketplace": "amazon", "as_of": None}]
        assert body["as_of"] is None


class TestNamesForDisplay:
    async def test_producer_and_product_rows_carry_kind_and_hindi_names(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        async with transaction(sessionmaker) as s:
            await s.execute(
                update(Producer)
                .where(Producer.id == shop.producer_ids["glass-unit"])
                .values(name_hi="काँच इकाई")
            )
            await s.execute(
                update(Product)
                .where(Product.id == shop.product_ids["FZD-BANGLE"])
                .values(title_hi="काँच की चूड़ियाँ")
            )
        key = await make_key("agency", "up-odop")
        await ingest_page(sessionmaker, shop.amazon, order("A-1", line("FZD-BANGLE", 2)))
        [producer] = (await _summary(client, key, group_by="producer"))["rows"]
        assert producer["producer"] == "glass-unit"
        assert producer["producer_kind"] == "self_help_group"
        assert producer["producer_hi"] == "काँच इकाई"
        [product] = (await _summary(client, key, group_by="product,month"))["rows"]
        assert product["product"] == "FZD-BANGLE"
        assert product["product_hi"] == "काँच की चूड़ियाँ"


def _alembic(url: str, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "odop_sync:migrations")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    getattr(command, action)(cfg, revision)


BEFORE = "b2c7e41d0a58"  # the revision before the two columns


async def test_the_migration_backfills_what_ingest_would_have_counted(
    tmp_path: Path, backend: str
) -> None:
    """Rollups written before the columns existed get the cancelled and returned units of
    their lines: downgraded (columns gone) and upgraded again, every row is as ingest left it."""
    server = os.environ.get("ODOP_TEST_POSTGRES_URL")
    url = (
        await _create_pg_database(server)
        if server
        else f"sqlite+aiosqlite:///{tmp_path / 'backfill.sqlite3'}"
    )
    try:
        await asyncio.to_thread(_alembic, url, "upgrade", "head")
        engine = create_engine(Settings(env="testing", database_url=url))
        try:
            sm = create_sessionmaker(engine)
            shop = await make_shop(sm)
            await _five_units_two_cancelled_one_returned(sm, shop)
            # 23:50 IST on 31 Oct (18:20 UTC): the October rows, not November's.
            late = datetime(2025, 10, 31, 18, 20, tzinfo=UTC)
            await ingest_page(
                sm, shop.flipkart,
                order("F-1", line("VNS-SAREE", 2), line("BHD-RUG-RED", 1), at=late,
                      status=S.CANCELLED),
                order("F-2", line("UNKNOWN-SKU", 4, returned=3), at=late, status=S.DELIVERED),
            )  # fmt: skip
            written = await _rollups(sm)
        finally:
            await engine.dispose()
        assert sum(r[4] for r in written) == 2 * (2 + 3)  # day and month rows
        assert sum(r[5] for r in written) == 2 * (1 + 3)
        await asyncio.to_thread(_alembic, url, "downgrade", BEFORE)
        await asyncio.to_thread(_alembic, url, "upgrade", "head")
        engine = create_engine(Settings(env="testing", database_url=url))
        try:
            assert await _rollups(create_sessionmaker(engine)) == written
        finally:
            await engine.dispose()
    finally:
        if server:
            await _drop_pg_database(server, url)


async def _rollups(sm: async_sessionmaker[AsyncSession]) -> list[tuple[Any, ...]]:
    r = SalesRollup
    async with sm() as s:
        rows = await s.execute(
            select(
                r.grain, r.period_start, r.account_id, r.product_key,
                r.units_cancelled, r.units_returned, r.units, r.units_net,
            ).order_by(r.grain, r.period_start, r.account_id, r.product_key)
        )  # fmt: skip
        return [tuple(row) for row in rows.all()]
