"""Two marketplaces each listing the last unit: once the order for it is pulled from one, the
other shows 0 without waiting for any schedule (how fast is bench/sync's figure), and the ledger
explains every unit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from odop_sync.models import StockMovement, Variant
from odop_sync.orders.puller import OrderPuller
from tests.conftest import bearer
from tests.orders.fake_adapter import PagedOrdersAdapter, adapter_for
from tests.orders.helpers import line, order
from tests.sync.conftest import (
    EVENT_TIMEOUT,
    MakeWorld,
    assert_no_schedule_fires,
    eventually,
    flipkart_fsn,
)


class TestLastUnit:
    @pytest.mark.schedules_hours_apart
    async def test_the_other_marketplace_shows_zero_without_waiting_for_a_schedule(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world()
        assert_no_schedule_fires(world.app)
        amazon = await world.create_account("amazon", stock_buffer=0)
        flipkart = await world.create_account("flipkart", stock_buffer=0)
        async with world.sessionmaker() as s:
            variants = list(await s.scalars(select(Variant).order_by(Variant.id)))
        sku = next(v.sku for v in variants if flipkart_fsn(v.attributes))
        r = await world.client.patch(
            f"/v1/variants/{sku}", json={"stock": 1}, headers=bearer(world.key)
        )
        assert r.status_code == 200, r.text
        for account_id in (amazon, flipkart):
            assert (await world.sync_now(account_id))["status"] == "done"
        assert (await world.remote("flipkart"))[sku]["quantity"] == 1
        assert (await world.remote("amazon"))[sku]["quantity"] == 1

        # The order for the last unit arrives from Amazon through orders.pull.
        sold = PagedOrdersAdapter([[order("AMZ-LAST-1", line(sku, 1, price=100_000))]])
        puller = OrderPuller(
            world.sessionmaker,
            world.app.state.settings.orders,
            adapter_for(sold),
            owner="test",
            events=world.app.state.events,
        )
        assert await puller.pull_account(amazon) == 1

        async def flipkart_shows_zero() -> bool:
            row: dict[str, Any] = (await world.remote("flipkart"))[sku]
            return row["quantity"] == 0

        # No sweep and no pull come for hours: only the order's own wake-up can bring it.
        await eventually(flipkart_shows_zero, timeout=EVENT_TIMEOUT)
        async with world.sessionmaker() as s:
            variant = await s.scalar(select(Variant).where(Variant.sku == sku))
            assert variant is not None
            ledger = list(
                await s.scalars(
                    select(StockMovement)
                    .where(StockMovement.variant_id == variant.id)
                    .order_by(StockMovement.id)
                )
            )
        # The ledger explains every unit: it sums to what is on hand, the last move the order.
        assert variant.stock_on_hand == 0
        assert sum(m.delta for m in ledger) == 0
        assert ledger[-1].reason == "order"
        assert ledger[-1].delta == -1
        assert ledger[-1].balance_after == 0
        assert "AMZ-LAST-1" in (ledger[-1].source_ref or "")
