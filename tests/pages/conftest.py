"""Browser tests: Playwright driving Debian's Chromium (`apt-get install chromium`, launched
through `executable_path`: browser downloads are blocked here) against `odop-sync serve` in a
process of its own. `.ci/run` installs Chromium and sets ODOP_TEST_REQUIRE_BROWSER=1, so there a
missing browser fails the run; elsewhere these tests are skipped with the command that installs
it. Every request the page makes is recorded: `offsite()` lists those that left the app's origin
(the pages ship their own assets, no CDN)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, Request, async_playwright

from tests.pages.site import DemoSite, demo_site
from tests.processes import Served, served

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Written by the tests, kept by CI (the README shows some of them).
SCREENSHOTS = Path(os.environ.get("ODOP_TEST_SCREENSHOTS", "var/screenshots"))


def chromium_path() -> str | None:
    found = next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), None)
    return found or shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        reason = "Debian's Chromium is not installed: apt-get install chromium"
        if os.environ.get("ODOP_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    env = {"ODOP_SYNC__ENABLED": "false", "ODOP_ORDERS__ENABLED": "false"}
    async with served(database_url, tmp_path, env=env) as running:
        yield running


@dataclass
class Visit:
    """A page of the app in the browser, with every request it made."""

    page: Page
    origin: str
    requests: list[str] = field(default_factory=list)

    def offsite(self) -> list[str]:
        return [
            url
            for url in self.requests
            if httpx.URL(url).scheme not in ("data", "blob")
            and not url.startswith(self.origin + "/")
        ]

    async def screenshot(self, name: str) -> Path:
        """The whole page as PNG in SCREENSHOTS (Playwright makes the folder)."""
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path


async def visit(browser: Browser, server: Served, path: str, *, width: int = 1280) -> Visit:
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    origin = f"http://127.0.0.1:{server.port}"
    seen = Visit(page, origin)

    def record(request: Request) -> None:
        seen.requests.append(request.url)

    page.on("request", record)
    await page.goto(origin + path, wait_until="networkidle")
    return seen


@pytest.fixture(scope="session")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DemoSite]:
    """The demo (catalog, sales history, keys) served in demo mode, shared by the page tests."""
    async with demo_site(tmp_path_factory.mktemp("site")) as running:
        yield running


async def open_page(
    browser: Browser,
    site: DemoSite,
    path: str,
    *,
    role: str | None = "partner",
    width: int = 1280,
) -> Visit:
    """`path` in a new browser context, signed in with the demo key of `role` (put in the
    tab's sessionStorage, as the sign-in form does), once every figure is drawn."""
    height = 740 if width < 500 else 900
    context = await browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    if role is not None:
        await context.add_init_script(
            f"sessionStorage.setItem('odop.key', {json.dumps(site.keys[role])})"
        )
    page = await context.new_page()
    seen = Visit(page, site.origin)
    page.on("request", lambda request: seen.requests.append(request.url))
    await page.goto(site.origin + path)
    if role is not None:
        await wait_loaded(page, 0)
    return seen


async def wait_loaded(page: Page, loads_before: int) -> None:
    """Until the page has drawn its figures once more than `loads_before` times."""
    # A selector, not a predicate: the pages' CSP forbids the eval wait_for_function needs.
    await page.wait_for_selector(
        f'html[data-loads="{loads_before + 1}"], html[data-state="error"]',
        state="attached",
        timeout=30_000,
    )
    state = await page.evaluate("document.documentElement.dataset.state")
    if state == "error":
        problem = await page.text_content("#problem")
        raise AssertionError(f"the page shows a problem: {problem}")


async def downloaded(info: Any) -> bytes:
    """The bytes of the file a click downloaded (`page.expect_download()`'s info)."""
    path = await (await info.value).path()
    return await asyncio.to_thread(Path(path).read_bytes)


async def loads(page: Page) -> int:
    return int(await page.evaluate("Number(document.documentElement.dataset.loads || 0)"))
