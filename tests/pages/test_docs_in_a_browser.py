"""The API docs page in a real browser: Swagger UI renders the app's own OpenAPI document from
the app's own assets, and not one request leaves the app's origin (the harness the dashboard and
console tests build on)."""

from __future__ import annotations

from playwright.async_api import Browser

from tests.pages.conftest import visit
from tests.processes import Served


async def test_the_docs_render_with_nothing_fetched_from_another_host(
    browser: Browser, server: Served
) -> None:
    seen = await visit(browser, server, "/docs")
    # Swagger UI drew the operations of the app's own document.
    await seen.page.wait_for_selector(".opblock", timeout=30_000)
    assert await seen.page.locator(".opblock").count() > 10
    assert any(url.endswith("/openapi.json") for url in seen.requests), seen.requests
    assert seen.offsite() == [], seen.offsite()
    await seen.screenshot("docs-wide")
