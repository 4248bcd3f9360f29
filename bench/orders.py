"""bench/orders: order lines per second through ingest (pages of DTOs fed directly, so no
marketplace pacing), and the sales summary's p50/p95 over at least 1,000,000 order lines.

The ingest run pulls `--orders` orders (1-3 lines each) page by page, each page in its own
transaction as the puller commits them, then pulls a tenth of them again with a new status
(cancellations, returns, deliveries). The summary run then tops the database up to `--lines`
order lines with the history import (odop_sync.orders.history: the rows and rollups ingest
would write, in bulk), and times every grouping over a year, 20 times each.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import cli, drop_database, fresh_database, print_table, write_json
from odop_sync.adapter_sdk import Money, OrderPage, OrderStatus, RemoteOrder, RemoteOrderLine
from odop_sync.config import Settings
from odop_sync.db import create_engine, create_sessionmaker, transaction
from odop_sync.models import Agency, MarketplaceAccount, Producer, ProducerKind, Product, Variant
from odop_sync.orders.history import PastOrder, catalog_skus, load_history
from odop_sync.orders.service import ingest
from odop_sync.sales import service as sales
from odop_sync.sales.repository import Filters
from odop_sync.sales.schemas import Dimension

PRODUCTS = 400
DISTRICTS = 25
CRAFTS = 12
PAGE = 100
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 365
GROUPINGS = ["district", "producer", "craft", "product", "marketplace", "month", "quarter",
             "district,month", "marketplace,quarter", "craft,marketplace"]  # fmt: skip


async def _catalog(
    sm: async_sessionmaker[AsyncSession],
) -> tuple[list[MarketplaceAccount], list[tuple[str, int, int]]]:
    async with transaction(sm) as s:
        agency = Agency(slug="bench", name="Bench")
        s.add(agency)
        await s.flush()
        accounts = [
            MarketplaceAccount(agency_id=agency.id, adapter=a, name=a, credentials_encrypted="-")
            for a in ("amazon", "flipkart")
        ]
        s.add_all(accounts)
        variants = []
        for n in range(PRODUCTS):
            producer = Producer(agency_id=agency.id, ref=f"p{n}", name_en=f"Producer {n}",
                                kind=ProducerKind.ARTISAN)  # fmt: skip
            s.add(producer)
            await s.flush()
            product = Product(
                agency_id=agency.id, producer_id=producer.id, ref=f"prod{n}", title_en=f"P{n}",
                district_code=f"district-{n % DISTRICTS}", craft=f"craft-{n % CRAFTS}",
                hsn_code="5701", gst_rate=5,
            )  # fmt: skip
            s.add(product)
            await s.flush()
            price = 10_000 + 137 * n
            variant = Variant(agency_id=agency.id, product_id=product.id, sku=f"SKU-{n}",
                              mrp_paise=price * 2, price_paise=price, stock_on_hand=10**9,
                              content_hash="-")  # fmt: skip
            s.add(variant)
            await s.flush()
            variants.append((variant.sku, product.id, price))
    return accounts, variants


def _order(n: int, rng: random.Random, variants: list[tuple[str, int, int]]) -> RemoteOrder:
    status = OrderStatus.UNSHIPPED
    at = START + timedelta(minutes=n * DAYS * 1440 // 100_000 % (DAYS * 1440))
    picks = rng.sample(variants, rng.randint(1, 3))
    lines = tuple(
        RemoteOrderLine(
            line_id=f"{n}-{i}", sku=sku, quantity=rng.randint(1, 3), unit_price=Money(amount=p)
        )
        for i, (sku, _, p) in enumerate(picks)
    )
    return RemoteOrder(
        order_id=f"B-{n}", status=status.value, canonical_status=status, purchased_at=at,
        updated_at=at, lines=lines,
    )  # fmt: skip


async def bench_ingest(
    sm: async_sessionmaker[AsyncSession], accounts: list[MarketplaceAccount],
    variants: list[tuple[str, int, int]], orders: int,
) -> dict[str, Any]:  # fmt: skip
    rng = random.Random(5)
    pages: list[tuple[MarketplaceAccount, OrderPage]] = []
    lines = 0
    for start in range(0, orders, PAGE):
        batch = tuple(_order(n, rng, variants) for n in range(start, min(orders, start + PAGE)))
        lines += sum(len(o.lines) for o in batch)
        pages.append((accounts[(start // PAGE) % 2], OrderPage(orders=batch)))
    t0 = time.perf_counter()
    for account, page in pages:
        async with transaction(sm) as s:
            await ingest(s, account, page)
    first = time.perf_counter() - t0
    # A tenth changes status: cancelled, returned or delivered (stock back, rollups moved).
    changes = []
    for account, page in pages[::10]:
        changed = tuple(
            o.model_copy(update={"canonical_status": rng.choice(
                [OrderStatus.CANCELLED, OrderStatus.RETURNED, OrderStatus.DELIVERED]),
                "updated_at": o.purchased_at + timedelta(hours=48)})
            for o in page.orders
        )  # fmt: skip
        changes.append((account, OrderPage(orders=changed)))
    t1 = time.perf_counter()
    for account, page in changes:
        async with transaction(sm) as s:
            await ingest(s, account, page)
    second = time.perf_counter() - t1
    changed_lines = sum(len(o.lines) for _, p in changes for o in p.orders)
    return {
        "orders": orders,
        "lines": lines,
        "lines_per_s": round(lines / first),
        "status_change_lines_per_s": round(changed_lines / second),
    }


async def top_up(
    sm: async_sessionmaker[AsyncSession], accounts: list[MarketplaceAccount],
    variants: list[tuple[str, int, int]], have: int, want: int,
) -> int:  # fmt: skip
    """Bulk-load orders until there are `want` lines, with the history import
    (odop_sync.orders.history): the rows and rollups ingest would write, no stock moved."""
    rng = random.Random(9)
    n = 10_000_000
    total = have
    async with sm() as s:
        skus = await catalog_skus(s, accounts[0].agency_id)
    while total < want:
        async with transaction(sm) as s:
            chunk = []
            for _ in range(5_000):
                chunk.append(PastOrder(_order(n, rng, variants)))
                n += 1
            account = accounts[n // 5_000 % 2]  # chunks alternate between the accounts
            total += await load_history(s, account, chunk, skus)
    return total


async def bench_summary(sm: async_sessionmaker[AsyncSession], repeat: int) -> dict[str, Any]:
    timings: list[float] = []
    per: dict[str, float] = {}
    end = START.date() + timedelta(days=DAYS - 1)
    for grouping in GROUPINGS:
        dims = [Dimension(d) for d in grouping.split(",")]
        mine = []
        for _ in range(repeat):
            async with sm() as s:
                t = time.perf_counter()
                await sales.summary(
                    s, start=date(2025, 1, 15), end=end, group_by=dims,
                    filters=Filters(agency_ids=[1]),
                )  # fmt: skip
                mine.append(time.perf_counter() - t)
        timings += mine
        per[grouping] = round(statistics.median(mine) * 1000, 1)
    timings.sort()
    return {
        "p50_ms": round(statistics.median(timings) * 1000, 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1] * 1000, 1),
        "median_ms_by_grouping": per,
    }


async def run(backend: str, url: str, orders: int, lines: int) -> dict[str, Any]:
    cli(url, "db", "upgrade")
    settings = Settings(database_url=url, env="testing")
    engine = create_engine(settings)
    sm = create_sessionmaker(engine)
    try:
        accounts, variants = await _catalog(sm)
        ingested = await bench_ingest(sm, accounts, variants, orders)
        total = await top_up(sm, accounts, variants, ingested["lines"], lines)
        summary = await bench_summary(sm, 20)
    finally:
        await engine.dispose()
    return {**ingested, "summary_lines": total, **summary}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    result: dict[str, Any] = {"orders": args.orders, "lines": args.lines, "backends": {}}
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            url = await fresh_database(backend, Path(tmp))
            try:
                r = await run(backend, url, args.orders, args.lines)
            finally:
                await drop_database(url)
            result["backends"][backend] = r
            goal = 50 if backend == "postgresql" else 200
            table.append([
                backend, f"{r['lines']:,}", f"{r['lines_per_s']:,}",
                f"{r['status_change_lines_per_s']:,}", f"{r['summary_lines']:,}",
                r["p50_ms"], r["p95_ms"],
                "yes" if r["lines_per_s"] >= 2000 and r["p95_ms"] <= goal else "NO",
            ])  # fmt: skip
    print_table(
        "bench/orders: ingest (pages of DTOs, no marketplace pacing) and the sales summary",
        ["backend", "lines ingested", "lines/s", "status-change lines/s", "summary over lines",
         "summary p50 ms", "summary p95 ms", "goal met (>=2000/s; p95 <=50 PG, <=200 SQLite)"],
        table,
    )  # fmt: skip
    print(f"\nwrote {write_json('orders', result)}")


if __name__ == "__main__":
    asyncio.run(main())
