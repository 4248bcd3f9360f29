"""bench/sync: the sync engine against the Amazon, Flipkart and Alibaba.com sandboxes at their
limits ×50.

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

Alibaba.com (no published limits, PROTOCOL §6: the sandbox's default 10 calls/s per app and
seller, burst 10; the adapter's own shared "gateway" bucket of 5 calls/s, burst 5, which every
call spends, so the adapter's is the binding one):

1. a full push of M SKUs (`--alibaba-skus`, B2B carpets with USD tiers at a fixed FX rate):
   no bulk feed, one product a schema add, and several gateway calls a product (the product
   list looking for one published before, schema add, inventory get + update, display; the
   category schema, the photobank upload of the one image and the token once a push). The
   allowed items/s is the gateway's 5 calls/s × 50 over the calls a SKU took in that push, so
   the ratio is the share of the gateway's budget the push used; 429s are ApiCallLimit answers;

then for all:

3. change propagation, the time until the sandbox holds the new value; p50 and p95:
   Amazon and Flipkart: PATCH /v1/variants/{sku} price changes; Alibaba.com (whose offer route
   is stock and display, prices being the B2B tiers sent with the content): stock changes, and
   then first-tier price changes (b2b_price_tiers, a schema update) as the "tier" columns;
4. the peak resident memory of the whole process (service, engine and sandbox).

    python -m bench.sync --skus 20000 --alibaba-skus 500 --backends sqlite,postgresql \
        [--marketplaces amazon,flipkart,alibaba]
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
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from adapters.alibaba.adapter import AlibabaAdapter
from adapters.alibaba.sandbox import DEFAULT_BURST as ALI_SANDBOX_BURST
from adapters.alibaba.sandbox import DEFAULT_RATE as ALI_SANDBOX_RATE
from adapters.alibaba.sandbox import SANDBOX_SELLER as ALI_SELLER
from adapters.alibaba.sandbox import AlibabaSandbox
from adapters.alibaba.sandbox import demo_credentials as ali_credentials
from adapters.amazon.adapter import AmazonAdapter
from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox, demo_credentials
from adapters.flipkart.adapter import FlipkartAdapter
from adapters.flipkart.sandbox import SANDBOX_SELLER as FK_SELLER
from adapters.flipkart.sandbox import FlipkartSandbox
from adapters.flipkart.sandbox import demo_credentials as fk_credentials
from fastapi import FastAPI
from fastapi.responses import Response
from sqlalchemy import func, select

from bench.common import ROOT, cli, drop_database, fresh_database, print_table, write_json
from odop_sync.app import create_app
from odop_sync.auth.service import create_key
from odop_sync.config import Settings
from odop_sync.db import transaction
from odop_sync.fx.service import set_rate
from odop_sync.models import Agency, Listing, ListingIssue, ListingStatus, Role, SyncRun

SCALE = 50.0
PUT = "putListingsItem"  # the item route's operation for new listings
SANDBOXES = "http://marketplace.test/sandbox"
MARKETPLACES = ("amazon", "flipkart", "alibaba")
# Alibaba.com: the one bucket every call of the app and seller spends (the adapter's own).
ALI_GATEWAY = AlibabaAdapter.limits["gateway"]
# INR per USD, chosen so the tiers' rupees are whole cents: ₹16,000 is US$200.00.
FX_USD = Decimal("80")
ALIBABA_SKUS = 500  # a full push of about 10 s at 50 SKUs/s
# A change of one SKU: the PATCH body and the value the sandbox then holds.
Change = tuple[str, dict[str, Any], Decimal | int]
IMAGE_ORIGIN = "https://img.example.org"
JPEG = b"\xff\xd8\xff\xe0" + b"bench carpet photo" * 40
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


def items(n: int, marketplace: str = "amazon") -> list[dict[str, Any]]:
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
            "images": [f"{IMAGE_ORIGIN}/carpet.jpg"],
        }
        for k in range(n)
    ]
    if marketplace == "flipkart":
        # Flipkart lists against its own catalog (an FSN per SKU, the demo catalog's convention)
        # and needs the package; without them every SKU would end as needs_mapping / rejected.
        for k, row in enumerate(rows):
            row["attributes"] = {"marketplaces": {"flipkart": {"fsn": f"BHD{k:013d}"}}}
            row.update(weight_g=6200, length_cm=155, width_cm=32, height_cm=32)
    if marketplace == "alibaba":
        # Alibaba.com takes only products with wholesale terms, and a craft its category map
        # knows (categories.toml: "Hand-knotted carpet" → Carpets & Rugs); the demo catalog's
        # carpets carry the same kind of terms.
        for row in rows:
            row.update(
                craft="Hand-knotted carpet",
                b2b_moq=2,
                b2b_moq_unit="piece",
                b2b_price_tiers=tiers(16000),
                b2b_supply_per_month=400,
                b2b_lead_times="1-50:20|51+:45",
                b2b_port_of_loading="Nhava Sheva (Mumbai)",
                b2b_payment_terms="TT|LC",
                export_hs_code="57011010",
            )
    return rows


def tiers(first: int) -> str:
    """A three-step ladder in rupees starting at ₹`first` a piece (US$`first`/80 at FX_USD)."""
    return f"2-49:{first}|50-199:14400|200+:12800"


def percentiles(name: str, latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {f"{name}_p50_s": None, f"{name}_p95_s": None}
    return {
        f"{name}_p50_s": round(statistics.median(latencies), 3),
        f"{name}_p95_s": round(statistics.quantiles(latencies, n=20)[-1], 3),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def carpet_photo() -> Response:
    return Response(JPEG, media_type="image/jpeg")


class Bench:
    def __init__(self, url: str, skus: int, marketplace: str = "amazon") -> None:
        self.url = url
        self.skus = skus
        self.marketplace = marketplace
        outer = FastAPI()
        self.sandbox: AmazonSandbox | FlipkartSandbox | AlibabaSandbox
        image_origins: list[str] = []
        if marketplace == "alibaba":
            # The sandbox's default gateway limit (10 calls/s, burst 10, per app and seller).
            self.sandbox = AlibabaSandbox(time_scale=SCALE)
            outer.mount("/sandbox/alibaba", self.sandbox.app)
            # The items' one image, fetched by the core for the photobank upload: the image
            # host stands in behind the same in-process transport, as an allowed origin.
            outer.add_api_route("/carpet.jpg", carpet_photo, methods=["GET"])
            image_origins = [IMAGE_ORIGIN]
        elif marketplace == "flipkart":
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
            image_origins=image_origins,
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
            tier_latencies: list[float] = []
            if self.marketplace == "alibaba":
                result = await self._alibaba_pushes()
                latencies = await self._propagation(stock=True)
                tier_latencies = await self._tier_propagation()
            elif self.marketplace == "flipkart":
                result = await self._flipkart_pushes()
                latencies = await self._propagation()
            else:
                result = await self._amazon_pushes()
                latencies = await self._propagation()
            await client.aclose()
        return {
            "skus": self.skus,
            "marketplace": self.marketplace,
            "time_scale": SCALE,
            **result,
            "propagation_change": "stock" if self.marketplace == "alibaba" else "price",
            "propagation_samples": len(latencies),
            **percentiles("propagation", latencies),
            "tier_propagation_samples": len(tier_latencies),
            **percentiles("tier_propagation", tier_latencies),
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

    async def _alibaba_pushes(self) -> dict[str, Any]:
        """One full push (no bulk feed: a product a schema add), under the gateway's shared
        limit; every call the push made counted by operation, as the sandbox saw it."""
        assert isinstance(self.sandbox, AlibabaSandbox)
        async with transaction(self.app.state.sessionmaker) as session:
            # Without a USD rate in force every listing would be held (needs_mapping).
            await set_rate(
                session, currency="USD", rate=FX_USD, source="RBI", valid_on=None, actor="bench"
            )
        calls_before = Counter(self.sandbox.state.calls)
        throttled_before = Counter(self.sandbox.throttled)
        item_s = await self._full_push("items", bulk=False)
        calls: Counter[str] = Counter()
        for (_, op), n in (Counter(self.sandbox.state.calls) - calls_before).items():
            calls[op] += n
        throttled = Counter(self.sandbox.throttled) - throttled_before
        per_sku = sum(calls.values()) / self.skus
        gateway = ALI_GATEWAY.rate * SCALE  # calls/s
        allowed = gateway / per_sku
        achieved = self.skus / item_s
        return {
            "feed_push_s": None,  # Alibaba.com has no bulk feed
            "feed_push_items_per_s": None,
            "item_push_s": round(item_s, 2),
            "item_push_items_per_s": round(achieved, 1),
            "allowed_items_per_s": round(allowed, 1),
            "achieved_over_allowed": round(achieved / allowed, 3),
            "throttled_429": sum(throttled.values()),
            "throttled_429_by_operation": dict(throttled),
            "gateway_calls_per_sku": round(per_sku, 2),
            "gateway_calls_per_s": round(sum(calls.values()) / item_s, 1),
            "gateway_allowed_calls_per_s": gateway,
            "sandbox_limit_calls_per_s": ALI_SANDBOX_RATE * SCALE,
            "sandbox_burst": ALI_SANDBOX_BURST,
            "push_calls_by_operation": dict(sorted(calls.items())),
        }

    async def _seed(self) -> None:
        catalog = items(self.skus, self.marketplace)
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
        if self.marketplace == "alibaba":
            credentials = ali_credentials()
            account = {"adapter": "alibaba", "name": f"Alibaba.com {name}"}
        elif self.marketplace == "flipkart":
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

    async def _propagation(self, samples: int = 60, *, stock: bool = False) -> list[float]:
        """Price (or, with `stock`, stock) changes on spread-out SKUs, one every 200 ms; seconds
        from the PATCH answer until the sandbox holds the new value."""
        held: Callable[[str], Decimal | int | None]
        if self.marketplace == "alibaba":
            sandbox = self.sandbox
            assert isinstance(sandbox, AlibabaSandbox)

            def held(sku: str) -> Decimal | int | None:
                row = sandbox.product_for(ALI_SELLER, sku)
                return None if row is None else int(row["inventory"])
        elif self.marketplace == "flipkart":
            listings = self.sandbox.state.table(FK_SELLER, "listings")

            def held(sku: str) -> Decimal | int | None:  # whole rupees
                return Decimal(listings[sku]["price"]["selling_price"])
        else:
            listings = self.sandbox.state.table(SANDBOX_SELLER, "listings")

            def held(sku: str) -> Decimal | int | None:
                offer = listings[sku]["attributes"]["purchasable_offer"][0]
                return Decimal(str(offer["our_price"][0]["schedule"][0]["value_with_tax"]))

        changes: list[Change] = []
        for n in range(samples):
            sku = f"BHD-{(n * 331) % self.skus:06d}"
            if stock:  # above the seeded 1-20, so every change is one
                changes.append((sku, {"stock": 100 + n}, 100 + n))
            else:
                price = Decimal(16000 + n)
                changes.append((sku, {"price": f"{price}.00"}, price))
        return await self._changes(changes, held)

    async def _tier_propagation(self, samples: int = 30) -> list[float]:
        """Alibaba.com: the first tier's price changed (a content change: schema update), from
        ₹16,080 up in steps of ₹80, i.e. US$201.00, US$202.00, … at FX_USD."""
        sandbox = self.sandbox
        assert isinstance(sandbox, AlibabaSandbox)

        def held(sku: str) -> Decimal | int | None:
            row = sandbox.product_for(ALI_SELLER, sku)
            ladder = [] if row is None else row["values"].get("bulk_discount_prices", [])
            return Decimal(str(ladder[0]["price"])) if ladder else None

        changes: list[Change] = []
        for n in range(samples):
            sku = f"BHD-{(n * 331 + 7) % self.skus:06d}"
            rupees = 16000 + 80 * (n + 1)
            changes.append((sku, {"b2b_price_tiers": tiers(rupees)}, Decimal(rupees) / FX_USD))
        return await self._changes(changes, held)

    async def _changes(
        self,
        changes: list[Change],
        held: Callable[[str], Decimal | int | None],
    ) -> list[float]:
        latencies = []
        for sku, body, wanted in changes:
            r = await self.client.patch(f"/v1/variants/{sku}", json=body, headers=self.headers)
            r.raise_for_status()
            sent = time.perf_counter()
            while True:
                if held(sku) == wanted:
                    break
                if time.perf_counter() - sent > 30:
                    raise RuntimeError(f"{sku} never got its change {body}")
                await asyncio.sleep(0.005)
            latencies.append(time.perf_counter() - sent)
            await asyncio.sleep(0.2)
        return latencies


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=20_000)
    # Alibaba.com has no bulk feed and ~5 gateway calls a product at 5 calls/s (×50): 50 SKUs/s.
    parser.add_argument("--alibaba-skus", type=int, default=ALIBABA_SKUS)
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
    result: dict[str, Any] = {"skus": args.skus, "alibaba_skus": args.alibaba_skus}
    result["backends"] = {}
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            for marketplace in marketplaces:
                # Each (backend, marketplace) in a process of its own: peak memory is the
                # process's high-water mark, which a later run in the same process would inherit
                # from the one before; and the Amazon run stays what it was before Flipkart came.
                print(f"{backend} / {marketplace}:", flush=True)
                out = Path(tmp) / f"{backend}-{marketplace}.json"
                skus = args.alibaba_skus if marketplace == "alibaba" else args.skus
                command = [sys.executable, "-m", "bench.sync", "--skus", str(skus)]
                command += ["--backends", backend, "--marketplaces", marketplace]
                command += ["--result-file", str(out)]
                await asyncio.to_thread(subprocess.run, command, check=True, cwd=ROOT)
                r = json.loads(await asyncio.to_thread(out.read_text))
                result["backends"].setdefault(backend, {})[marketplace] = r
                table.append(row_of(backend, marketplace, r))
    print_table(
        f"bench/sync: sandboxes at their limits ×{SCALE:g}, engine rate_limit_scale {SCALE:g} "
        "(Amazon: documented; Flipkart: the adapter's own; Alibaba.com: sandbox gateway "
        f"{ALI_SANDBOX_RATE:g} calls/s, adapter {ALI_GATEWAY.rate:g} calls/s shared, i.e. "
        f"{ALI_SANDBOX_RATE * SCALE:g} and {ALI_GATEWAY.rate * SCALE:g} calls/s here) "
        "(goals: ratio >= 0.9, p95 <= 2 s, peak <= 300 MB)",
        [
            "backend",
            "marketplace",
            "SKUs",
            "feed push s",
            "item push s",
            "item push /s (allowed)",
            "ratio",
            "429s",
            "change",
            "p50 s",
            "p95 s",
            "tier p50 s",
            "tier p95 s",
            "peak MB",
        ],
        table,
    )
    print(f"\nresults: {write_json('sync', result)}")


def row_of(backend: str, marketplace: str, r: dict[str, Any]) -> list[Any]:
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    feed = r["feed_push_s"]
    return [
        backend,
        marketplace,
        r["skus"],
        "-" if feed is None else f"{feed:.1f}",
        f"{r['item_push_s']:.1f}",
        f"{r['item_push_items_per_s']:.0f} / {r['allowed_items_per_s']:.0f}",
        f"{r['achieved_over_allowed']:.2f}",
        r["throttled_429"],
        r["propagation_change"],
        seconds(r["propagation_p50_s"]),
        seconds(r["propagation_p95_s"]),
        seconds(r["tier_propagation_p50_s"]),
        seconds(r["tier_propagation_p95_s"]),
        f"{r['peak_rss_mb']:.0f}",
    ]


if __name__ == "__main__":
    asyncio.run(main())
