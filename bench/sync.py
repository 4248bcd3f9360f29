"""bench/sync: the sync engine against the Amazon and Flipkart sandboxes at their limits ×50.

One process per (backend, marketplace) holds the service (API, engine) and that marketplace's
sandbox behind an in-process ASGI transport, as `make run` does in demo mode; marketplace time
runs 50× faster, and the engine paces itself by the same factor. Per backend it measures:

Amazon (documented limits):

1. a full push of N SKUs by the route the engine chooses (JSON_LISTINGS_FEEDs of at most
   `sync.feed_max_items` listings each);
2. a full push of N SKUs through putListingsItem only (bulk feeds off): achieved items/s over
   the allowed rate (5 rps × 50), and how many 429s the sandbox answered to those calls;

Flipkart (no published limits: the adapter's own `limits` are the allowed rate, and the sandbox
enforces the same rate and burst per operation):

1. a full push of N SKUs through Listings V3, the only route (no bulk feed): batches of 10 SKUs,
   each a getListings then a createListings call; achieved items/s over the allowed rate
   (createListings 1 rps × 10 SKUs × 50), and how many 429s the sandbox answered to the push's
   calls (getListings and createListings);

then for both:

3. change propagation: PATCH /v1/variants/{sku} price changes, the time until the sandbox holds
   the new price; p50 and p95;
4. the peak resident memory of the whole process (service, engine and sandbox).

    python -m bench.sync --skus 20000 --backends sqlite,postgresql [--marketplaces amazon,flipkart]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from adapters.amazon.adapter import AmazonAdapter
from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox, demo_credentials
from adapters.flipkart.adapter import FlipkartAdapter
from adapters.flipkart.sandbox import SANDBOX_SELLER as FK_SELLER
from adapters.flipkart.sandbox import FlipkartSandbox
from adapters.flipkart.sandbox import demo_credentials as fk_credentials
from fastapi import FastAPI
from sqlalchemy import func, select

from bench.common import ROOT, cli, drop_database, fresh_database, print_table, write_json
from odop_sync.app import create_app
from odop_sync.auth.service import create_key
from odop_sync.config import Settings
from odop_sync.db import transaction
from odop_sync.models import Agency, Listing, ListingIssue, ListingStatus, Role, SyncRun

SCALE = 50.0
PUT = "putListingsItem"  # the item route's operation for new listings
SANDBOXES = "http://marketplace.test/sandbox"
MARKETPLACES = ("amazon", "flipkart")
# Flipkart: a new SKU is one getListings (is it there?) and one createListings per 10 SKUs.
FK_CREATE = "createListings"
FK_PUSH_OPERATIONS = ("getListings", FK_CREATE)
PRODUCER = {
    "ref": "bhadohi-weavers",
    "kind": "cooperative",
    "name_en": "Bhadohi Weavers Cooperative",
    "district": "Bhadohi",
    "craft": "Carpet weaving",
}


def items(n: int, *, flipkart: bool = False) -> list[dict[str, Any]]:
    rows = [
        {
            "sku": f"BHD-{k:06d}",
            "producer_ref": "bhadohi-weavers",
            "title_en": f"Bhadohi hand-knotted wool carpet no. {k}",
            "title_hi": "भदोही हाथ से बुना ऊनी कालीन",
            "description_en": "Hand-knotted by the weavers of the Bhadohi carpet cluster.",
            "material": "Wool",
            "color": "Red",
            "district": "Bhadohi",
            "craft": "Carpet weaving",
            "hsn_code": "570110",
            "gst_rate": 5,
            "mrp": "24000.00",
            "price": f"{15000 + k % 5000}.00",
            "stock": 1 + k % 20,
            "images": ["https://img.example.org/carpet.jpg"],
        }
        for k in range(n)
    ]
    if flipkart:
        # Flipkart lists against its own catalog (an FSN per SKU, the demo catalog's convention)
        # and needs the package; without them every SKU would end as needs_mapping / rejected.
        for k, row in enumerate(rows):
            row["attributes"] = {"marketplaces": {"flipkart": {"fsn": f"BHD{k:013d}"}}}
            row.update(weight_g=6200, length_cm=155, width_cm=32, height_cm=32)
    return rows


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Bench:
    def __init__(self, url: str, skus: int, marketplace: str = "amazon") -> None:
        self.url = url
        self.skus = skus
        self.marketplace = marketplace
        outer = FastAPI()
        self.sandbox: AmazonSandbox | FlipkartSandbox
        if marketplace == "flipkart":
            # Flipkart publishes no limits: the sandbox enforces the adapter's own, per operation.
            limits = {op: (x.rate, float(x.burst)) for op, x in FlipkartAdapter.limits.items()}
            self.sandbox = FlipkartSandbox(time_scale=SCALE, rate_limits=limits)
            outer.mount("/sandbox/flipkart", self.sandbox.app)
        else:
            self.sandbox = AmazonSandbox(time_scale=SCALE, feed_queue_seconds=30.0)
            outer.mount("/sandbox/amazon", self.sandbox.app)
        self.transport = httpx.ASGITransport(app=outer)
        settings = Settings(
            env="testing",
            database_url=url,
            log_level="WARNING",
            sync={"rate_limit_scale": SCALE, "feed_poll_s": 0.2, "sweep_interval_s": 30.0},
            # The production cadence (the code defaults), as for the sweep: the testing layer's
            # 1 s orders.pull spent this process's event loop on throttled searchOrders calls.
            orders={"pull_interval_s": 60.0},
            # The in-process sandboxes stand in for the marketplaces' own hosts.
            marketplace_hosts={m: f"{SANDBOXES}/{m}" for m in MARKETPLACES},
        )
        self.app = create_app(settings, workers=True)

    async def run(self) -> dict[str, Any]:
        async with self.app.router.lifespan_context(self.app):
            self.app.state.adapter_transport = self.transport
            async with transaction(self.app.state.sessionmaker) as session:
                agency = Agency(slug="bench", name="Bench agency")
                session.add(agency)
                await session.flush()
                self.agency_id = agency.id
                _, self.key = await create_key(
                    session, role=Role.AGENCY, name="bench", agency_slug="bench"
                )
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app), base_url="http://odop.bench"
            )
            self.client = client
            self.headers = {"Authorization": f"Bearer {self.key}"}
            await self._seed()
            if self.marketplace == "flipkart":
                result = await self._flipkart_pushes()
            else:
                result = await self._amazon_pushes()
            latencies = await self._propagation()
            await client.aclose()
        return {
            "skus": self.skus,
            "marketplace": self.marketplace,
            "time_scale": SCALE,
            **result,
            "propagation_samples": len(latencies),
            "propagation_p50_s": round(statistics.median(latencies), 3),
            "propagation_p95_s": round(statistics.quantiles(latencies, n=20)[-1], 3),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }

    async def _amazon_pushes(self) -> dict[str, Any]:
        engine = self.app.state.sync
        feed_s = await self._full_push("feed", bulk=True)
        # 429s of the pushed operation; the process's other callers (order pulls) are kept
        # apart, shown in the JSON, not mixed into the push's count.
        throttled_before = dict(self.sandbox.guard.throttled)
        engine.settings = engine.settings.model_copy(update={"bulk_feeds": False})
        item_s = await self._full_push("items", bulk=False)
        throttled_by_op = {
            op: n - throttled_before.get(op, 0)
            for op, n in self.sandbox.guard.throttled.items()
            if n > throttled_before.get(op, 0)
        }
        throttled = throttled_by_op.pop(PUT, 0)
        allowed = AmazonAdapter.limits[PUT].rate * SCALE
        achieved = self.skus / item_s
        return {
            "feed_push_s": round(feed_s, 2),
            "feed_push_items_per_s": round(self.skus / feed_s),
            "item_push_s": round(item_s, 2),
            "item_push_items_per_s": round(achieved, 1),
            "allowed_items_per_s": allowed,
            "achieved_over_allowed": round(achieved / allowed, 3),
            "throttled_429": throttled,
            "throttled_429_other_operations": throttled_by_op,
        }

    async def _flipkart_pushes(self) -> dict[str, Any]:
        """One full push: the item route is Flipkart's only one."""
        throttled_before = dict(self.sandbox.guard.throttled)
        item_s = await self._full_push("items", bulk=False)
        throttled_by_op = {
            op: n - throttled_before.get(op, 0)
            for op, n in self.sandbox.guard.throttled.items()
            if n > throttled_before.get(op, 0)
        }
        push_throttled = {op: throttled_by_op.pop(op, 0) for op in FK_PUSH_OPERATIONS}
        create = FlipkartAdapter.limits[FK_CREATE]
        allowed = create.rate * create.max_batch_size * SCALE
        achieved = self.skus / item_s
        return {
            "feed_push_s": None,  # Flipkart has no bulk feed
            "feed_push_items_per_s": None,
            "item_push_s": round(item_s, 2),
            "item_push_items_per_s": round(achieved, 1),
            "allowed_items_per_s": allowed,
            "achieved_over_allowed": round(achieved / allowed, 3),
            "throttled_429": sum(push_throttled.values()),
            "throttled_429_by_push_operation": push_throttled,
            "throttled_429_other_operations": throttled_by_op,
        }

    async def _seed(self) -> None:
        catalog = items(self.skus, flipkart=self.marketplace == "flipkart")
        body = {"producers": [PRODUCER], "items": catalog}
        r = await self.client.post("/v1/batches", json=body, headers=self.headers)
        r.raise_for_status()
        batch_id = r.json()["id"]
        while True:
            got = await self.client.get(f"/v1/batches/{batch_id}?rows=none", headers=self.headers)
            if got.json()["status"] in ("completed", "failed"):
                assert got.json()["counts"]["rejected"] == 0, got.json()["counts"]
                return
            await asyncio.sleep(0.2)

    async def _full_push(self, name: str, *, bulk: bool) -> float:
        """A new account (so every SKU is new to it), then one sync run; seconds until every
        listing is confirmed live."""
        if self.marketplace == "flipkart":
            credentials = fk_credentials()
            account = {"adapter": "flipkart", "name": f"Flipkart {name}"}
        else:
            credentials = demo_credentials()
            account = {"adapter": "amazon", "name": f"Amazon.in {name}"}
        r = await self.client.post(
            "/v1/accounts", json={**account, "credentials": credentials}, headers=self.headers
        )
        r.raise_for_status()
        self.account_id = int(r.json()["id"])
        started = time.perf_counter()
        async with transaction(self.app.state.sessionmaker) as session:
            run = SyncRun(agency_id=self.agency_id, account_id=self.account_id, status="queued")
            session.add(run)
            await session.flush()
            run_id = run.id
        await self.app.state.sync.process_run(run_id)
        while True:
            async with self.app.state.read_sessionmaker() as session:
                live = await session.scalar(
                    select(func.count()).where(
                        Listing.account_id == self.account_id,
                        Listing.status == ListingStatus.LIVE,
                    )
                )
            if live == self.skus:
                break
            if time.perf_counter() - started > float(os.environ.get("BENCH_PUSH_TIMEOUT", 600)):
                async with self.app.state.read_sessionmaker() as session:
                    counts = dict(
                        (
                            await session.execute(
                                select(Listing.status, func.count())
                                .where(Listing.account_id == self.account_id)
                                .group_by(Listing.status)
                            )
                        ).all()
                    )
                    issue = await session.scalar(
                        select(ListingIssue.message).order_by(ListingIssue.id.desc()).limit(1)
                    )
                raise RuntimeError(f"not all listings live: {counts}; last issue: {issue}")
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started
        print(f"  full push via {name}: {self.skus} SKUs live in {elapsed:.1f} s", flush=True)
        return elapsed

    async def _propagation(self, samples: int = 60) -> list[float]:
        """Price changes on random SKUs, one every 200 ms; seconds from the PATCH answer until
        the sandbox holds the new price."""
        if self.marketplace == "flipkart":
            listings = self.sandbox.state.table(FK_SELLER, "listings")

            def held(sku: str) -> Decimal:  # whole rupees
                return Decimal(listings[sku]["price"]["selling_price"])
        else:
            listings = self.sandbox.state.table(SANDBOX_SELLER, "listings")

            def held(sku: str) -> Decimal:
                offer = listings[sku]["attributes"]["purchasable_offer"][0]
                return Decimal(str(offer["our_price"][0]["schedule"][0]["value_with_tax"]))

        latencies = []
        for n in range(samples):
            sku = f"BHD-{(n * 331) % self.skus:06d}"
            price = Decimal(16000 + n)
            r = await self.client.patch(
                f"/v1/variants/{sku}", json={"price": f"{price}.00"}, headers=self.headers
            )
            r.raise_for_status()
            sent = time.perf_counter()
            while True:
                if held(sku) == price:
                    break
                if time.perf_counter() - sent > 30:
                    raise RuntimeError(f"{sku} never got its new price")
                await asyncio.sleep(0.005)
            latencies.append(time.perf_counter() - sent)
            await asyncio.sleep(0.2)
        return latencies


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--marketplaces", default=",".join(MARKETPLACES))
    parser.add_argument("--result-file", help=argparse.SUPPRESS)  # one run, in a child
    args = parser.parse_args()
    os.environ.setdefault("ODOP_ENV", "testing")
    marketplaces = args.marketplaces.split(",")
    unknown = sorted(set(marketplaces) - set(MARKETPLACES))
    if unknown:
        parser.error(f"unknown marketplaces: {', '.join(unknown)}")
    if args.result_file:
        with tempfile.TemporaryDirectory() as tmp:
            url = await fresh_database(args.backends, Path(tmp))
            try:
                await asyncio.to_thread(cli, url, "db", "upgrade")
                r = await Bench(url, args.skus, marketplaces[0]).run()
            finally:
                await drop_database(url)
        await asyncio.to_thread(Path(args.result_file).write_text, json.dumps(r))
        return
    result: dict[str, Any] = {"skus": args.skus, "backends": {}}
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            for marketplace in marketplaces:
                # Each (backend, marketplace) in a process of its own: peak memory is the
                # process's high-water mark, which a later run in the same process would inherit
                # from the one before; and the Amazon run stays what it was before Flipkart came.
                print(f"{backend} / {marketplace}:", flush=True)
                out = Path(tmp) / f"{backend}-{marketplace}.json"
                command = [sys.executable, "-m", "bench.sync", "--skus", str(args.skus)]
                command += ["--backends", backend, "--marketplaces", marketplace]
                command += ["--result-file", str(out)]
                await asyncio.to_thread(subprocess.run, command, check=True, cwd=ROOT)
                r = json.loads(await asyncio.to_thread(out.read_text))
                result["backends"].setdefault(backend, {})[marketplace] = r
                feed = r["feed_push_s"]
                table.append(
                    [
                        backend,
                        marketplace,
                        r["skus"],
                        "-" if feed is None else f"{feed:.1f}",
                        f"{r['item_push_items_per_s']:.0f} / {r['allowed_items_per_s']:.0f}",
                        f"{r['achieved_over_allowed']:.2f}",
                        r["throttled_429"],
                        f"{r['propagation_p50_s']:.2f}",
                        f"{r['propagation_p95_s']:.2f}",
                        f"{r['peak_rss_mb']:.0f}",
                    ]
                )
    print_table(
        f"bench/sync: sandboxes at their limits ×{SCALE:g} (Amazon: documented; Flipkart: the "
        "adapter's own) (goals: ratio >= 0.9, p95 <= 2 s, peak <= 300 MB)",
        [
            "backend",
            "marketplace",
            "SKUs",
            "feed push s",
            "item push /s (allowed)",
            "ratio",
            "429s",
            "p50 s",
            "p95 s",
            "peak MB",
        ],
        table,
    )
    print(f"\nresults: {write_json('sync', result)}")


if __name__ == "__main__":
    asyncio.run(main())
