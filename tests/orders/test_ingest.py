"""Ingest: the same orders pulled any number of times give the same orders, lines, ledger and
sales rollups; each unit moves stock once; unknown SKUs are kept; cancellations and returns
give stock back."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.adapter_sdk import OrderStatus
from odop_sync.models import Base, OrderLine, StockMovement, StockReason
from tests.orders.helpers import Shop, ingest_page, line, make_shop, order, snapshot, stock

S = OrderStatus


async def _ledger(sm: async_sessionmaker[AsyncSession], variant_id: int) -> list[tuple[int, str]]:
    async with sm() as s:
        rows = await s.execute(
            select(StockMovement.delta, StockMovement.reason)
            .where(StockMovement.variant_id == variant_id)
            .order_by(StockMovement.id)
        )
        return [(d, StockReason(r).value) for d, r in rows.all()]


class TestIngest:
    async def test_pulling_the_same_page_twice_changes_nothing_the_second_time(
        self, sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
    ) -> None:
        page = [
            order("A-1", line("BHD-RUG-RED", 2), line("FZD-BANGLE", 3)),
            order("A-2", line("VNS-SAREE", 1)),
        ]
        changed = await ingest_page(sessionmaker, shop.amazon, *page)
        assert sorted(changed) == sorted(
            shop.variant_ids[s] for s in ("BHD-RUG-RED", "FZD-BANGLE", "VNS-SAREE")
        )
        once = await snapshot(sessionmaker)
        assert await ingest_page(sessionmaker, shop.amazon, *page) == []
        assert await snapshot(sessionmaker) == once
        assert once["stock"] == {
            "BHD-RUG-RED": 3, "BHD-RUG-BLUE": 3, "VNS-SAREE": 1, "FZD-BANGLE": 7
        }  # fmt: skip
        assert once["movement_total"] == 3

    async def test_a_crash_between_pages_then_a_pull_with_overlap_gives_the_same_result(
        self, sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
    ) -> None:
        pages = [
            [order("A-1", line("BHD-RUG-RED")), order("A-2", line("FZD-BANGLE", 2))],
            [order("A-3", line("BHD-RUG-RED")), order("A-1", line("BHD-RUG-RED"),
                                                      status=S.SHIPPED, updated_minutes=5)],
        ]  # fmt: skip
        for page in pages:
            await ingest_page(sessionmaker, shop.flipkart, *page)
        clean = await snapshot(sessionmaker)
        # Again from scratch, as a worker killed after page 1 and restarted would: page 1 again
        # (its cursor was lost with the crash), then the overlap repeats page 1 and page 2.
        await _reset(sessionmaker)
        shop2 = await make_shop(sessionmaker)
        await ingest_page(sessionmaker, shop2.flipkart, *pages[0])
        for page in [pages[0], pages[0], pages[1], pages[1]]:
            await ingest_page(sessionmaker, shop2.flipkart, *page)
        assert await snapshot(sessionmaker) == clean

    async def test_an_unknown_sku_is_kept_flagged_and_moves_no_stock(
        self, sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
    ) -> None:
        before = await stock(sessionmaker)
        await ingest_page(
            sessionmaker, shop.amazon, order("A-9", line("NOT-IN-CATALOG", 2), line("FZD-BANGLE"))
        )
        async with sessionmaker() as s:
            lines = {row.sku: row for row in await s.scalars(select(OrderLine))}
        assert lines["NOT-IN-CATALOG"].unmatched is True
        assert lines["NOT-IN-CATALOG"].variant_id is None
        assert lines["NOT-IN-CATALOG"].quantity == 2
        assert lines["FZD-BANGLE"].unmatched is False
        assert await stock(sessionmaker) == {**before, "FZD-BANGLE": before["FZD-BANGLE"] - 1}

    async def test_a_cancellation_gives_the_units_back_once(
        self, sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
    ) -> None:
        await ingest_page(sessionmaker, shop.amazon, order("A-1", line("BHD-RUG-RED", 2)))
        cancelled = order("A-1", line("BHD-RUG-RED", 2), status=S.CANCELLED, updated_minutes=3)
        await ingest_page(sessionmaker, shop.amazon, cancelled)
        await ingest_page(sessionmaker, shop.amazon, cancelled)
        assert (await stock(sessionmaker))["BHD-RUG-RED"] == 5
        assert await _ledger(sessionmaker, shop.variant_ids["BHD-RUG-RED"]) == [
            (-2, "order"), (2, "cancellation")
        ]  # fmt: skip

    async def test_a_partial_return_gives_back_only_the_returned_units(
        self, sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
    ) -> None:
        await ingest_page(sessionmaker, shop.amazon, order("A-1", line("FZD-BANGLE", 4)))
        await ingest_page(
            sessionmaker, shop.amazon,
            order("A-1", line("FZD-BANGLE", 4, returned=1), status=S.DELIVERED,
                  updated_minutes=60),
        )  # fmt: skip
        assert (await stock(sessionmaker))["FZD-BANGLE"] == 7
        assert await _ledger(sessionmaker, shop.variant_ids["FZD-BANGLE"]) == [
            (-4, "order"), (1, "return")
        ]  # fmt: skip

    async def test_an_older_copy_of_an_order_does_not_undo_a_newer_status(
        self, sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
    ) -> None:
        placed = order("A-1", line("VNS-SAREE"))
        cancelled = order("A-1", line("VNS-SAREE"), status=S.CANCELLED, updated_minutes=10)
        await ingest_page(sessionmaker, shop.amazon, placed)
        await ingest_page(sessionmaker, shop.amazon, cancelled)
        await ingest_page(sessionmaker, shop.amazon, placed)  # the overlap window repeats it
        seen = await snapshot(sessionmaker)
        assert seen["orders"][0][2] == S.CANCELLED
        assert seen["stock"]["VNS-SAREE"] == 2
        assert [h[1:] for h in seen["history"]] == [(None, S.UNSHIPPED), (S.UNSHIPPED, S.CANCELLED)]

    async def test_selling_more_than_is_on_hand_floors_stock_and_a_cancellation_gives_back_only_what_left(  # noqa: E501
        self, sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
    ) -> None:
        await ingest_page(sessionmaker, shop.amazon, order("A-1", line("VNS-SAREE", 3)))
        assert (await stock(sessionmaker))["VNS-SAREE"] == 0
        await ingest_page(
            sessionmaker, shop.amazon,
            order("A-1", line("VNS-SAREE", 3), status=S.CANCELLED, updated_minutes=1),
        )  # fmt: skip
        assert (await stock(sessionmaker))["VNS-SAREE"] == 2
        ledger = await _ledger(sessionmaker, shop.variant_ids["VNS-SAREE"])
        assert ledger == [(-2, "order"), (2, "cancellation")]

    async def test_a_line_whose_sku_appears_later_moves_stock_when_pulled_again(
        self, sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
    ) -> None:
        await ingest_page(sessionmaker, shop.amazon, order("A-1", line("FZD-BANGLE", 2)))
        # The same SKU is unknown to another agency's account: kept there, flagged.
        await ingest_page(sessionmaker, shop.other_account, order("K-1", line("FZD-BANGLE", 2)))
        assert (await stock(sessionmaker))["FZD-BANGLE"] == 8
        async with sessionmaker() as s:
            flags = sorted(row.unmatched for row in await s.scalars(select(OrderLine)))
        assert flags == [False, True]


async def _reset(sm: async_sessionmaker[AsyncSession]) -> None:
    """Empty every table, ids starting again from 1 (as the suite does between tests)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with sm() as s, s.begin():
        if s.get_bind().dialect.name == "postgresql":
            await s.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await s.execute(text(f"DELETE FROM {name}"))
