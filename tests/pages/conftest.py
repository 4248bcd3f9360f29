"""Browser tests: Playwright driving Debian's Chromium (`apt-get install chromium`, launched
through `executable_path`: browser downloads are blocked here) against `odop-sync serve` in a
process of its own. `.ci/run` installs Chromium and sets ODOP_TEST_REQUIRE_BROWSER=1, so there a
missing browser fails the run; elsewhere these tests are skipped with the command that installs
it. Every request the page makes is recorded: `offsite()` lists those that left the app's origin
(the pages ship their own assets, no CDN)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, Request, async_playwright

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
