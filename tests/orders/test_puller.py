"""orders.pull: page by page, cursor stored after each page, a kill between pages repeats at
most one page, and the next pass starts an overlap before the last watermark."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.config import OrderSettings
from odop_sync.db import transaction
from odop_sync.kit.time import utcnow
from odop_sync.models import MarketplaceAccount, OrderCursor
from odop_sync.orders import repository as repo
from odop_sync.orders.puller import OrderPuller
from tests.orders.fake_adapter import PagedOrdersAdapter, adapter_for
from tests.orders.helpers import T0, Shop, line, order, snapshot

PAGES = [
    [order("F-1", line("BHD-RUG-RED")), order("F-2", line("FZD-BANGLE", 2))],
    [order("F-3", line("VNS-SAREE"), updated_minutes=4)],
    [order("F-4", line("BHD-RUG-BLUE", 2), updated_minutes=9)],
]


def _puller(
    sm: async_sessionmaker[AsyncSession], adapter: PagedOrdersAdapter, owner: str = "w1"
) -> OrderPuller:
    settings = OrderSettings(overlap_s=600, lease_ttl_s=5)
    return OrderPuller(sm, settings, adapter_for(adapter), owner=owner)


async def _cursor(sm: async_sessionmaker[AsyncSession], account_id: int) -> OrderCursor:
    async with sm() as s:
        found = await s.get(OrderCursor, account_id)
        assert found is not None
        return found


@pytest.fixture(autouse=True)
async def _enabled(sessionmaker: async_sessionmaker[AsyncSession], shop: Shop) -> None:
    """The puller pulls enabled accounts only (no sync engine runs in these tests)."""
    async with transaction(sessionmaker) as s:
        await s.execute(update(MarketplaceAccount).values(enabled=True))


class TestOrderPuller:
    async def test_a_pass_ingests_every_page_and_stores_the_watermark(
        self, sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
    ) -> None:
        adapter = PagedOrdersAdapter(PAGES)
        assert await _puller(sessionmaker, adapter).pull_account(shop.amazon.id) == 3
        assert [c for c, _ in adapter.calls] == [None, "1", "2"]
        cursor = await _cursor(sessionmaker, shop.amazon.id)
        assert cursor.cursor is None
        assert cursor.updated_after == T0 + timedelta(minutes=9)
        assert len((await snapshot(sessionmaker))["orders"]) == 4
        # The next pass asks for changes since the watermark less the overlap.
        await _puller(sessionmaker, adapter).pull_account(shop.amazon.id)
        assert adapter.calls[3] == (None, T0 + timedelta(minutes=9) - timedelta(minutes=10))

    async def test_a_kill_between_pages_resumes_from_the_stored_cursor_with_the_same_result(
        self, sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
    ) -> None:
        clean = PagedOrdersAdapter(PAGES)
        await _puller(sessionmaker, clean).pull_account(shop.flipkart.id)
        expected = await snapshot(sessionmaker)
        # The same orders for the Amazon account, the worker dying after page 1 committed.
        crashing = PagedOrdersAdapter(PAGES)
        crashing.fail_after = 1
        with pytest.raises(RuntimeError):
            await _puller(sessionmaker, crashing).pull_account(shop.amazon.id)
        assert (await _cursor(sessionmaker, shop.amazon.id)).cursor == "1"
        # A new worker (no in-memory state) goes on from the stored cursor, then pulls all of
        # it again with the overlap: nothing moves twice.
        fresh = PagedOrdersAdapter(PAGES)
        await _puller(sessionmaker, fresh, owner="w2").pull_account(shop.amazon.id)
        assert fresh.calls[0][0] == "1"
        async with transaction(sessionmaker) as s:
            await repo.save_cursor(s, shop.amazon.id, {"cursor": None})
        await _puller(sessionmaker, fresh, owner="w2").pull_account(shop.amazon.id)
        seen = await snapshot(sessionmaker)
        # Amazon's orders mirror Flipkart's: the same lines, ledger per order, and rollups.
        by_account = {a: [o[1:] for o in seen["orders"] if o[0] == a] for a in (2, 1)}
        assert by_account[1] == by_account[2]
        assert len(seen["ledger"]) == 2 * len(expected["ledger"])
        # Each account sold 1 red rug, 2 blue (only 3 in stock: floored at 0), 1 saree (2 in
        # stock) and 2 bangles, once each.
        assert seen["stock"] == {
            "BHD-RUG-RED": 3, "BHD-RUG-BLUE": 0, "VNS-SAREE": 0, "FZD-BANGLE": 6
        }  # fmt: skip

    async def test_another_worker_holding_the_pull_lease_keeps_this_one_out(
        self, sessionmaker: async_sessionmaker[AsyncSession], shop: Shop
    ) -> None:
        async with transaction(sessionmaker) as s:
            assert await repo.take_pull_lease(s, shop.amazon.id, "other", utcnow(), 30)
        adapter = PagedOrdersAdapter(PAGES)
        assert await _puller(sessionmaker, adapter).pull_account(shop.amazon.id) == 0
        assert adapter.calls == []
