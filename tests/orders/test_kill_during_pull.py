"""kill -9 of the server while it pulls orders from the Amazon sandbox: after a restart every
order is there once, every unit left stock once, and the sales figures count each unit once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from adapters.amazon.sandbox import SANDBOX_SELLER, demo_credentials
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.demo.loader import load_demo_catalog
from odop_sync.kit.time import utcnow
from odop_sync.models import Order, OrderLine, StockMovement, StockReason, Variant
from odop_sync.orders.service import IST
from tests.api.helpers import wait_for_batch
from tests.conftest import MakeAgency, MakeKey, bearer
from tests.processes import sandbox_state, served

# Marketplace time ×600: Amazon's two-minute order lag is 0.2 s here, and searchOrders' usage
# plan (burst 20, then one call per 180 s) lets a backlog of pages through at once.
TIME_SCALE = 600
ON_HAND = 500
ORDERS = 2400  # 24 pages of 100
DEMO = load_demo_catalog("http://127.0.0.1:8000")
# Twenty demo variants (complete for Amazon's product types), each with plenty on hand.
ITEMS = [{**item, "stock": ON_HAND} for item in DEMO["items"][:20]]
SKUS = [str(item["sku"]) for item in ITEMS]


async def _counts(sm: async_sessionmaker[AsyncSession]) -> int:
    async with sm() as session:
        return int(await session.scalar(select(func.count()).select_from(Order)) or 0)


@pytest.mark.slow
class TestKillDuringOrderPull:
    async def test_orders_pulled_across_a_kill_dash_nine_count_once(
        self,
        database_url: str,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sessionmaker: async_sessionmaker[AsyncSession],
        tmp_path: Path,
    ) -> None:
        await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        env = {
            "ODOP_SYNC__RATE_LIMIT_SCALE": str(TIME_SCALE),
            "ODOP_SYNC__FEED_POLL_S": "0.1",
            "ODOP_ORDERS__PULL_INTERVAL_S": "0.5",
        }
        async with served(
            database_url, tmp_path, env=env, sandbox=("amazon", TIME_SCALE)
        ) as server:
            assert server.sandbox is not None
            client, sandbox = server.client, server.sandbox
            # Only the orders placed below, none cancelled or returned later: every unit sold
            # stays sold, so the expected stock is known.
            r = await sandbox.put(
                "/_sandbox/generator",
                json={"orders_per_minute": 0, "cancel_share": 0, "return_share": 0},
            )
            assert r.status_code == 200, r.text
            batch_id = await server.publish(key, DEMO["producers"], ITEMS)
            await wait_for_batch(client, key, batch_id)
            credentials = demo_credentials()
            await server.add_account(key, "amazon", "Amazon.in", credentials)
            deadline = time.monotonic() + 60
            while len((await sandbox_state(sandbox))["listings"]) < len(SKUS):
                assert time.monotonic() < deadline, "the catalog never reached the sandbox"
                await asyncio.sleep(0.1)

            # Shoppers buy while odop-sync is down; it comes back to a backlog of pages.
            server.stop()
            for n in range(ORDERS):
                r = await sandbox.post(
                    f"/_sandbox/orders/{SANDBOX_SELLER}",
                    json={"sku": SKUS[n % len(SKUS)], "quantity": 1 + n % 2},
                )
                assert r.status_code == 201, r.text
            await asyncio.sleep(0.5)  # past Amazon's (scaled) two-minute lag

            server.start()
            deadline = time.monotonic() + 60
            while (seen := await _counts(sessionmaker)) == 0:
                assert time.monotonic() < deadline, "no order was pulled"
                await asyncio.sleep(0.01)
            server.kill()
            assert 0 < seen < ORDERS, f"the kill came after the pull ({seen} orders)"

            await server.restart()
            deadline = time.monotonic() + 90
            while await _counts(sessionmaker) < ORDERS:
                assert time.monotonic() < deadline, await _counts(sessionmaker)
                await asyncio.sleep(0.2)
            remote = (await sandbox.get(f"/_sandbox/orders/{SANDBOX_SELLER}")).json()
            ist_today = utcnow().astimezone(IST).date()
            r = await client.get(
                "/v1/sales/summary",
                # The sandbox's clock runs ahead of the wall clock: late in the Indian evening
                # its orders are dated tomorrow (IST), past the default range that ends today.
                params={
                    "group_by": "product",
                    "from": str(ist_today - timedelta(days=1)),
                    "to": str(ist_today + timedelta(days=7)),
                },
                headers=bearer(key),
            )
            assert r.status_code == 200, r.text
            summary = r.json()

        sold: Counter[str] = Counter()
        for placed in remote["orders"]:
            for placed_line in placed["lines"]:
                sold[placed_line["sku"]] += placed_line["quantity"]
        assert len(remote["orders"]) == ORDERS
        async with sessionmaker() as session:
            assert await _counts(sessionmaker) == ORDERS
            lines = int(await session.scalar(select(func.count()).select_from(OrderLine)) or 0)
            assert lines == ORDERS
            on_hand = dict(
                (await session.execute(select(Variant.sku, Variant.stock_on_hand))).all()
            )
            ledger = await session.execute(
                select(Variant.sku, func.sum(StockMovement.delta), func.count())
                .join(Variant, Variant.id == StockMovement.variant_id)
                .where(StockMovement.reason == StockReason.ORDER)
                .group_by(Variant.sku)
            )
            moved = {sku: (int(total), int(count)) for sku, total, count in ledger}
        for sku in SKUS:
            # Each unit left stock once, and the ledger explains it: one movement per line.
            assert on_hand[sku] == ON_HAND - sold[sku], sku
            assert moved[sku] == (-sold[sku], ORDERS // len(SKUS)), sku
        # The sales figures count every unit once too.
        assert summary["totals"]["units"] == sum(sold.values())
