"""bench/ingest: a 10,000-row batch submitted over HTTP and fully processed, on SQLite and on
PostgreSQL, against a plain bulk insert of the same rows into the same database in the same run.

    python -m bench.ingest [--rows 10000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from bench.common import Server, cli, drop_database, fresh_database, print_table, write_json
from odop_sync.config import Settings
from odop_sync.db import create_engine, create_sessionmaker, transaction
from odop_sync.kit.time import utcnow
from odop_sync.models import Agency, Producer, ProducerKind, Product, Variant

CRAFTS = [
    ("Bhadohi", "Carpet weaving", "5701", "भदोही कालीन"),
    ("Lucknow", "Chikankari", "62114200", "लखनवी चिकनकारी"),
    ("Varanasi", "Wooden toys", "9503", "वाराणसी लकड़ी के खिलौने"),
    ("Gorakhpur", "Terracotta", "6913", "गोरखपुर टेराकोटा"),
    ("Agra", "Leather footwear", "6403", "आगरा चमड़े के जूते"),
]


def rows(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        district, craft, hsn, hi = CRAFTS[i % len(CRAFTS)]
        out.append(
            {
                "sku": f"BENCH-{i:06d}",
                "product_ref": f"BENCH-P-{i // 2:06d}",
                "producer_ref": "bench-producer",
                "title_en": f"{craft} item {i} from {district}",
                "title_hi": f"{hi} {i}",
                "district": district,
                "craft": craft,
                "hsn_code": hsn,
                "gst_rate": 5,
                "mrp": "1500.00",
                "price": f"{1000 + i % 400}.00",
                "stock": i % 40,
                "images": [f"https://cdn.example.org/bench/{i}.jpg"],
            }
        )
    return out


async def e2e(database_url: str, items: list[dict[str, Any]]) -> float:
    cli(database_url, "db", "upgrade")
    async with Server(database_url) as server:
        engine = create_engine(Settings(env="testing", database_url=database_url))
        async with transaction(create_sessionmaker(engine)) as session:
            session.add(Agency(slug="bench", name="Bench agency"))
        await engine.dispose()
        key = cli(
            database_url, "keys", "create", "--role", "agency", "--agency", "bench"
        ).splitlines()[-1]
        body = {
            "producers": [{"ref": "bench-producer", "kind": "artisan", "name_en": "Bench Artisan"}],
            "items": items,
        }
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            started = time.time()  # wall clock: compared with the server's finished_at
            r = await client.post("/v1/batches", json=body, headers=headers)
            r.raise_for_status()
            batch_id = r.json()["id"]
            while True:
                b = (await client.get(f"/v1/batches/{batch_id}?rows=none", headers=headers)).json()
                if b["status"] == "completed":
                    break
                await asyncio.sleep(0.1)  # a dashboard polls far less often
            # Until the server finished the batch (its own finished_at, same machine clock), not
            # until the next poll happened to see it: the poll interval is not processing time.
            finished = datetime.fromisoformat(b["finished_at"]).timestamp()
            elapsed = finished - started
        assert b["counts"]["created"] == len(items), b["counts"]
    return len(items) / elapsed


async def bulk_insert(database_url: str, items: list[dict[str, Any]]) -> float:
    """The floor: the same rows straight into products and variants with Core executemany."""
    engine = create_engine(Settings(env="testing", database_url=database_url))
    sm = create_sessionmaker(engine)
    now = utcnow()
    async with transaction(sm) as session:
        agency = Agency(slug="bulk", name="Bulk baseline")
        session.add(agency)
        await session.flush()
        producer = Producer(
            agency_id=agency.id, ref="bulk", kind=ProducerKind.ARTISAN, name_en="Bulk"
        )
        session.add(producer)
        await session.flush()
        agency_id, producer_id = agency.id, producer.id
    started = time.perf_counter()
    async with transaction(sm) as session:
        product_rows = {}
        for it in items:
            product_rows.setdefault(
                it["product_ref"],
                {
                    "agency_id": agency_id,
                    "producer_id": producer_id,
                    "ref": it["product_ref"],
                    "title_en": it["title_en"],
                    "title_hi": it["title_hi"],
                    "district_code": it["district"],
                    "craft": it["craft"],
                    "hsn_code": it["hsn_code"],
                    "gst_rate": 5,
                    "created_at": now,
                    "updated_at": now,
                },
            )
        await session.execute(insert(Product), list(product_rows.values()))
        found = await session.execute(
            select(Product.ref, Product.id).where(Product.agency_id == agency_id)
        )
        ids = dict(found.all())
        await session.execute(
            insert(Variant),
            [
                {
                    "agency_id": agency_id,
                    "product_id": ids[it["product_ref"]],
                    "sku": it["sku"],
                    "mrp_paise": 150000,
                    "price_paise": int(it["price"].split(".")[0]) * 100,
                    "stock_on_hand": it["stock"],
                    "images": it["images"],
                    "attributes": {},
                    "content_hash": "-",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for it in items
            ],
        )
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return len(items) / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    items = rows(args.rows)
    table = []
    result: dict[str, Any] = {"rows": args.rows, "backends": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            url = await fresh_database(backend, Path(tmp))
            try:
                e2e_rate = await e2e(url, items)
                bulk_rate = await bulk_insert(url, items)
            finally:
                await drop_database(url)
            ratio = e2e_rate / bulk_rate
            result["backends"][backend] = {
                "end_to_end_rows_per_s": round(e2e_rate),
                "bulk_insert_rows_per_s": round(bulk_rate),
                "ratio": round(ratio, 3),
            }
            table.append(
                [
                    backend,
                    args.rows,
                    f"{e2e_rate:,.0f}",
                    f"{bulk_rate:,.0f}",
                    f"{ratio:.2f}",
                    "yes" if e2e_rate >= 1000 and ratio >= 0.3 else "NO",
                ]
            )
    print_table(
        "bench/ingest: batch submitted over HTTP and fully processed vs plain bulk insert",
        [
            "backend",
            "rows",
            "end-to-end rows/s",
            "bulk insert rows/s",
            "ratio",
            "goal met (>=1000/s, >=0.3)",
        ],
        table,
    )
    print(f"\nresults: {write_json('ingest', result)}")


if __name__ == "__main__":
    asyncio.run(main())
