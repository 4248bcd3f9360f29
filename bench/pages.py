"""bench/pages: how fast /dashboard and /console are drawn over a big sales history, and every
API call they make.

    python -m bench.pages [--lines 1000000] [--backend postgresql|sqlite] [--repeat 20]

(`make bench` runs it on PostgreSQL at 1,000,000 order lines; ODOP_BENCH_POSTGRES_URL names the
server, default postgresql+asyncpg://postgres@127.0.0.1:5432/test, where a database of its own is
made and dropped afterwards; `--backend sqlite` uses a file in a temporary folder.)

1. Data: the database is migrated, the demo catalog loaded with `odop-sync demo`, and the demo
   agency's Amazon and Flipkart accounts topped up to `--lines` order lines (with the rollups
   ingest writes) by bench/orders.py's bulk loader, spread over the 365 days up to now (fewer
   at small sizes, still ending now), so a page's default range has sales in it. The
   top-up's time is printed.
2. `odop-sync serve` on a free port, in a process of its own (sync and order pulling off), with
   a partner key granted the demo agency (the dashboard's) and an agency key (the console's),
   made with `odop-sync keys create`.
3. Every API call each page makes, timed from this process: one warm-up, then `--repeat` times,
   p50/p95. An endpoint not in the app's OpenAPI document yet is shown "n/a".
4. Each page in Chromium (Playwright driving Debian's /usr/bin/chromium; `apt-get install
   chromium`) at 1280x900 and 360x740, in English and Hindi (?lang=hi): the API key is put in
   sessionStorage (`odop.key`) before the page's scripts run, and the time is from navigation
   start to the page setting `<html data-state="ready">` (read with performance.now() in the
   page, so it includes the HTML, assets and every call the page makes). A new browser context
   for each visit (nothing cached). One warm-up, then `--repeat`; goal: p95 < 1.0 s. A page that
   answers 404 is shown "page not built".

Results go to bench/results/pages-*.json. Exit status 1 if a call or a page failed (an HTTP
error, `data-state="error"` with `#problem`'s text shown, or no "ready" within 30 s); a missed
goal is printed as "fail" but is not an error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text

import bench.orders as orders_bench
from bench.common import drop_database, fresh_database, print_table, write_json
from bench.launch import Serve, app_env, free_port, run_cli, terminate_on_signals
from bench.orders import top_up
from odop_sync.config import Settings
from odop_sync.db import create_engine, create_sessionmaker
from odop_sync.models import Agency, MarketplaceAccount, Variant
from odop_sync.orders.service import IST

DEMO_AGENCY = "up-odop"
GOAL_S = 1.0
READY_TIMEOUT_MS = 30_000
VIEWS = [(1280, 900), (360, 740)]
LANGS = ["en", "hi"]
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def page_calls(today: str, year_ago: str, month_ago: str) -> dict[str, list[tuple[str, str]]]:
    """What each page asks for: (path in the OpenAPI document, the URL with its query)."""
    year = f"from={year_ago}&to={today}"
    summary = "/v1/sales/summary"
    return {
        "dashboard": [
            ("/v1/me", "/v1/me"),
            ("/v1/sales/filters", "/v1/sales/filters"),
            (summary, f"{summary}?{year}"),
            *(
                (summary, f"{summary}?group_by={g}&{year}")
                for g in ("month", "quarter", "district", "craft", "marketplace", "producer")
            ),
        ],
        "console": [
            ("/v1/me", "/v1/me"),
            ("/v1/listings/counts", "/v1/listings/counts"),
            ("/v1/sync/status", "/v1/sync/status"),
            ("/v1/orders", f"/v1/orders?from={month_ago}&limit=50"),
            ("/v1/batches", "/v1/batches"),
            ("/v1/products", "/v1/products?limit=50"),
        ],
    }


def quantiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds (p95: the value 95% of the runs are at or under)."""
    ordered = sorted(seconds)
    p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]
    return round(statistics.median(ordered) * 1000, 1), round(p95 * 1000, 1)


async def load(url: str, lines: int) -> tuple[int, float]:
    """Top the demo agency's Amazon and Flipkart accounts up to `lines` order lines, spread over
    the year up to now; (lines, seconds)."""
    # bench/orders.py places order n at START + n x 5.256 minutes, wrapping after a year, in
    # chunks of 5,000 orders (about 10,000 lines): START is set so that the last chunk ends a
    # little before now (a year back once there are more than ~100,000 orders).
    orders = (lines // 9_000 + 1) * 5_000
    span = timedelta(minutes=min(orders * orders_bench.DAYS * 1440 // 100_000,
                                 orders_bench.DAYS * 1440))  # fmt: skip
    orders_bench.START = datetime.now(UTC).replace(second=0, microsecond=0) - span
    engine = create_engine(Settings(database_url=url, env="development"))
    try:
        sm = create_sessionmaker(engine)
        async with sm() as s:
            agency = await s.scalar(select(Agency.id).where(Agency.slug == DEMO_AGENCY))
            accounts = list(
                await s.scalars(
                    select(MarketplaceAccount)
                    .where(MarketplaceAccount.agency_id == agency)
                    .where(MarketplaceAccount.adapter.in_(["amazon", "flipkart"]))
                    .order_by(MarketplaceAccount.adapter)
                )
            )
            variants = [
                (sku, product_id, price)
                for sku, product_id, price in await s.execute(
                    select(Variant.sku, Variant.product_id, Variant.price_paise)
                    .where(Variant.agency_id == agency)
                    .order_by(Variant.id)
                )
            ]
        if len(accounts) != 2 or len(variants) < 3:
            raise RuntimeError(f"demo catalog incomplete: {len(accounts)} accounts, {variants=}")
        t0 = time.perf_counter()
        total = await top_up(sm, accounts, variants, 0, lines)
        took = time.perf_counter() - t0
        if url.startswith("postgresql"):
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()
    return total, took


def make_keys(env: dict[str, str], cwd: Path) -> dict[str, str]:
    def key(*args: str) -> str:
        return run_cli(env, cwd, "keys", "create", *args).splitlines()[-1].strip()

    return {
        "dashboard": key("--role", "partner", "--grant", DEMO_AGENCY, "--name", "bench partner"),
        "console": key("--role", "agency", "--agency", DEMO_AGENCY, "--name", "bench agency"),
    }


async def time_api(
    base: str, keys: dict[str, str], calls: dict[str, list[tuple[str, str]]], repeat: int
) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        paths = set((await client.get("/openapi.json")).json()["paths"])
        rows: list[dict[str, Any]] = []
        for page, wanted in calls.items():
            headers = {"Authorization": f"Bearer {keys[page]}"}
            for path, url in wanted:
                row: dict[str, Any] = {"page": page, "call": url, "p50_ms": None, "p95_ms": None}
                rows.append(row)
                if path not in paths:
                    row["note"] = "n/a (not in the API yet)"
                    continue
                seconds = []
                for n in range(repeat + 1):
                    t = time.perf_counter()
                    r = await client.get(url, headers=headers)
                    took = time.perf_counter() - t
                    if r.status_code != 200:
                        row["error"] = f"HTTP {r.status_code}: {r.text[:200]}"
                        break
                    if n:  # the first is the warm-up
                        seconds.append(took)
                else:
                    row["p50_ms"], row["p95_ms"] = quantiles(seconds)
                    row["bytes"] = len(r.content)
    return rows


INIT_SCRIPT = """
try { sessionStorage.setItem("odop.key", %s); } catch (e) {}
new MutationObserver((_, seen) => {
  const state = document.documentElement.dataset.state;
  if (state === "ready" || state === "error") {
    window.__odopSettled = performance.now();
    seen.disconnect();
  }
}).observe(document.documentElement, {attributes: true, attributeFilter: ["data-state"]});
"""
# A selector, not a predicate: the pages' CSP forbids the eval that wait_for_function needs.
SETTLED = 'html[data-state="ready"], html[data-state="error"]'


async def visit(browser: Any, url: str, key: str, width: int, height: int) -> float | str:
    """Seconds from navigation start to data-state="ready", or what went wrong."""
    from playwright.async_api import Error as PlaywrightError

    context = await browser.new_context(viewport={"width": width, "height": height})
    try:
        await context.add_init_script(INIT_SCRIPT % json.dumps(key))
        page = await context.new_page()
        try:
            await page.goto(url, wait_until="commit", timeout=READY_TIMEOUT_MS)
            await page.wait_for_selector(SETTLED, state="attached", timeout=READY_TIMEOUT_MS)
        except PlaywrightError as exc:
            return f"no ready within {READY_TIMEOUT_MS // 1000} s: {str(exc).splitlines()[0]}"
        state = await page.evaluate("document.documentElement.dataset.state")
        if state != "ready":
            problem = page.locator("#problem")
            message = await problem.inner_text() if await problem.count() else "(no #problem)"
            return f"data-state={state}: {message.strip()[:200]}"
        at = await page.evaluate("window.__odopSettled ?? performance.now()")
        return float(at) / 1000
    finally:
        await context.close()


def chromium_path() -> str | None:
    found = next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), None)
    return found or shutil.which("chromium")


async def time_pages(base: str, keys: dict[str, str], repeat: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    built = {}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for page in keys:
            built[page] = (await client.get(f"/{page}")).status_code != 404
    if not any(built.values()):
        return [{"page": p, "view": "-", "note": "page not built"} for p in keys]
    chromium = chromium_path()
    if chromium is None:
        missing = "Debian's Chromium is not installed: apt-get install chromium"
        return [{"page": p, "view": "-", "error": missing} for p in keys]
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            for page, key in keys.items():
                if not built[page]:
                    rows.append({"page": page, "view": "-", "note": "page not built"})
                    continue
                for width, height in VIEWS:
                    for lang in LANGS:
                        url = f"{base}/{page}" + ("?lang=hi" if lang == "hi" else "")
                        row: dict[str, Any] = {"page": page, "view": f"{width}x{height} {lang}"}
                        rows.append(row)
                        seconds = []
                        for n in range(repeat + 1):
                            got = await visit(browser, url, key, width, height)
                            if isinstance(got, str):
                                row["error"] = got
                                break
                            if n:
                                seconds.append(got)
                        else:
                            row["p50_ms"], row["p95_ms"] = quantiles(seconds)
                            row["pass"] = row["p95_ms"] < GOAL_S * 1000
        finally:
            await browser.close()
    return rows


async def machine(backend: str, url: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "backend": backend,
    }
    if backend == "postgresql":
        engine = create_engine(Settings(database_url=url, env="development"))
        try:
            async with engine.connect() as conn:
                info["server"] = await conn.scalar(text("SHOW server_version"))
        finally:
            await engine.dispose()
    return info


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    url = await fresh_database(args.backend, workdir)
    try:
        port = free_port()
        env = app_env(
            url,
            ODOP_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
            ODOP_SYNC__ENABLED="false",
            ODOP_ORDERS__ENABLED="false",
        )
        info = await machine(args.backend, url)
        print(f"bench/pages on {info['cores']} cores, {info['platform']}, {args.backend}"
              f"{' ' + info['server'] if 'server' in info else ''}, {info['date']}")  # fmt: skip
        run_cli(env, workdir, "db", "upgrade")
        run_cli(env, workdir, "demo", "--base-url", f"http://127.0.0.1:{port}")
        lines, took = await load(url, args.lines)
        print(f"order lines: {lines:,} (top-up {took:.1f} s, {lines / took:,.0f} lines/s)")
        keys = make_keys(env, workdir)
        now = datetime.now(IST).date()
        calls = page_calls(str(now), str(now - timedelta(days=364)), str(now - timedelta(days=29)))
        async with Serve(env, port, workdir / "server.log") as server:
            api = await time_api(server.url, keys, calls, args.repeat)
            pages = await time_pages(server.url, keys, args.repeat)
    finally:
        await drop_database(url)
    return {**info, "lines": lines, "top_up_s": round(took, 1), "api": api, "pages": pages}


def report(result: dict[str, Any], repeat: int) -> bool:
    """Print the tables; whether everything answered."""

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:,.1f}"

    print_table(
        f"API calls ({result['backend']}, {result['lines']:,} order lines; "
        f"{repeat} runs after a warm-up)",
        ["page", "call", "p50 ms", "p95 ms", "note"],
        [[r["page"], r["call"], ms(r["p50_ms"]), ms(r["p95_ms"]),
          r.get("error") or r.get("note") or f"{r['bytes']:,} bytes"]
         for r in result["api"]],
    )  # fmt: skip
    print_table(
        f"Pages in Chromium, navigation start to data-state=ready (goal p95 < {GOAL_S:.1f} s)",
        ["page", "view", "p50 ms", "p95 ms", "goal"],
        [[r["page"], r["view"], ms(r.get("p50_ms")), ms(r.get("p95_ms")),
          r.get("error") or r.get("note") or ("pass" if r["pass"] else "fail")]
         for r in result["pages"]],
    )  # fmt: skip
    return not any("error" in r for r in result["api"] + result["pages"])


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines to load")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs after one warm-up")
    args = parser.parse_args()
    terminate_on_signals()
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        result = await run(args, Path(tmp))
    ok = report(result, args.repeat)
    print(f"\nwrote {write_json('pages', result)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
