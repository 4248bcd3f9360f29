"""The partner dashboard in Chromium, on the demo data: sign in with the partner key, the totals
and every chart's table against /v1/sales/summary, filters that change the figures and stay in
the address, the CSV download, Hindi, a 360 px phone, and no request leaving the app."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, Page

from tests.pages.conftest import Visit, downloaded, loads, open_page, wait_loaded
from tests.pages.site import DemoSite

MESSAGES = Path(__file__).resolve().parents[2] / "src/odop_sync/pages/messages"
KPI_FIELDS = {
    "net": "net",
    "units": "units",
    "orders": "orders",
    "returns": "units_returned",
    "cancellations": "units_cancelled",
}


def hindi(key: str) -> str:
    return str(json.loads((MESSAGES / "hi.json").read_text(encoding="utf-8"))[key])


def shown_range(page: Page) -> dict[str, str]:
    query = parse_qs(urlsplit(page.url).query)
    return {name: values[0] for name, values in query.items()}


async def kpis(page: Page) -> dict[str, str]:
    return {
        name: str(await page.get_attribute(f"[data-kpi={name}]", "data-value"))
        for name in KPI_FIELDS
    }


async def table_rows(page: Page, figure: str) -> list[list[str]]:
    cells = await page.eval_on_selector_all(
        f"#{figure} tbody tr",
        "rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))",
    )
    return [list(row) for row in cells]


def assert_same_totals(shown: dict[str, str], totals: dict[str, object]) -> None:
    for kpi, field in KPI_FIELDS.items():
        assert Decimal(shown[kpi]) == Decimal(str(totals[field])), kpi


async def api_summary(site: DemoSite, params: dict[str, str], group_by: str | None = None) -> dict:
    query = {"from": params["from"], "to": params["to"]}
    for page_name, api_name in (("district", "district"), ("craft", "craft")):
        if page_name in params:
            query[api_name] = params[page_name]
    if "marketplace" in params:
        query["marketplace"] = params["marketplace"]
    if "producer" in params:
        query["producer_id"] = params["producer"]
    if group_by:
        query["group_by"] = group_by
    summary: dict = await site.get("/v1/sales/summary", **query)
    return summary


def no_offsite(visit: Visit) -> None:
    assert visit.offsite() == [], visit.offsite()


class TestSignInAndFigures:
    async def test_a_partner_signs_in_and_sees_the_totals_and_charts_of_the_summary(
        self, browser: Browser, site: DemoSite
    ) -> None:
        visit = await open_page(browser, site, "/dashboard", role=None)
        page = visit.page
        assert await page.is_visible("#signin")
        await page.fill("#api-key", site.keys["partner"])
        await page.click("#signin-form button[type=submit]")
        await wait_loaded(page, 0)

        params = shown_range(page)
        summary = await api_summary(site, params)
        assert summary["totals"]["orders"] > 0, "the demo history has sales"
        assert_same_totals(await kpis(page), summary["totals"])

        # Each chart's table has the summary's groups: one row per marketplace, per district…
        for figure, group in (
            ("fig-marketplace", "marketplace"),
            ("fig-district", "district"),
            ("fig-craft", "craft"),
            ("fig-period", "month"),
        ):
            grouped = await api_summary(site, params, group)
            assert len(await table_rows(page, figure)) == len(grouped["rows"]), figure
        markets = await api_summary(site, params, "marketplace")
        assert len(markets["rows"]) >= 3
        # The charts are drawn: one bar per marketplace in the share, one column per month.
        assert await page.locator("#fig-marketplace .stack > span").count() == len(markets["rows"])
        months = await api_summary(site, params, "month")
        assert await page.locator("#fig-period svg rect").count() == len(months["rows"])

        # The key went in a header, never in the address or any request's URL.
        key = site.keys["partner"]
        assert key not in page.url
        assert all(key not in url for url in visit.requests)
        no_offsite(visit)
        await visit.screenshot("dashboard-en-wide")

    async def test_freshness_names_every_marketplace_of_the_summary(
        self, browser: Browser, site: DemoSite
    ) -> None:
        visit = await open_page(browser, site, "/dashboard")
        summary = await api_summary(site, shown_range(visit.page))
        text = await visit.page.text_content("#freshness") or ""
        for entry in summary["as_of_by_marketplace"]:
            assert {"amazon": "Amazon", "flipkart": "Flipkart", "alibaba": "Alibaba.com"}.get(
                entry["marketplace"], entry["marketplace"]
            ) in text


class TestFilters:
    async def test_a_marketplace_filter_changes_every_figure_and_the_address_keeps_it(
        self, browser: Browser, site: DemoSite
    ) -> None:
        visit = await open_page(browser, site, "/dashboard")
        page = visit.page
        before = await kpis(page)
        done = await loads(page)
        await page.select_option("#f-marketplace", "flipkart")
        await wait_loaded(page, done)

        params = shown_range(page)
        assert params["marketplace"] == "flipkart"
        filtered = await api_summary(site, params)
        after = await kpis(page)
        assert_same_totals(after, filtered["totals"])
        assert after["net"] != before["net"]
        assert len(await table_rows(page, "fig-marketplace")) == 1

        # The address is the view: opened again (a shared link), it shows the same figures.
        shared = await open_page(
            browser, site, urlsplit(page.url).path + "?" + urlsplit(page.url).query
        )
        assert await shared.page.input_value("#f-marketplace") == "flipkart"
        assert await kpis(shared.page) == after
        no_offsite(visit)

    async def test_by_quarter_and_a_district_from_the_keyboard(
        self, browser: Browser, site: DemoSite
    ) -> None:
        visit = await open_page(browser, site, "/dashboard")
        page = visit.page
        done = await loads(page)
        await page.focus("#f-period")
        await page.keyboard.press("ArrowDown")  # Month → Quarter, as a keyboard user does
        await wait_loaded(page, done)
        params = shown_range(page)
        assert params["period"] == "quarter"
        quarters = await api_summary(site, params, "quarter")
        periods = [row[0] for row in await table_rows(page, "fig-period")]
        assert periods == sorted(r["period"] for r in quarters["rows"])
        assert all("-Q" in p for p in periods)

        district = (await site.get("/v1/sales/filters"))["districts"][0]["code"]
        done = await loads(page)
        await page.select_option("#f-district", district)
        await wait_loaded(page, done)
        params = shown_range(page)
        assert_same_totals(await kpis(page), (await api_summary(site, params))["totals"])


class TestDownload:
    async def test_the_csv_is_the_summary_of_what_is_shown(
        self, browser: Browser, site: DemoSite
    ) -> None:
        visit = await open_page(browser, site, "/dashboard")
        page = visit.page
        async with page.expect_download() as info:
            await page.click("#fig-marketplace button.csv")
        body = (await downloaded(info)).decode("utf-8-sig")
        params = shown_range(page)
        r = await site.client.get(
            "/v1/sales/summary.csv",
            params={"from": params["from"], "to": params["to"], "group_by": "marketplace"},
            headers={"Authorization": f"Bearer {site.keys['partner']}"},
        )
        assert body == r.content.decode("utf-8-sig")
        assert len(body.strip().splitlines()) == 1 + len(
            (await api_summary(site, params, "marketplace"))["rows"]
        )


class TestLanguagesAndPhones:
    @pytest.mark.parametrize(("lang", "width"), [("hi", 1280), ("en", 360), ("hi", 360)])
    async def test_the_page_reads_in_hindi_and_fits_a_phone(
        self, browser: Browser, site: DemoSite, lang: str, width: int
    ) -> None:
        visit = await open_page(browser, site, f"/dashboard?lang={lang}", width=width)
        page = visit.page
        assert await page.get_attribute("html", "lang") == lang
        if lang == "hi":
            label = await page.text_content("[data-kpi=net] dt")
            assert label == hindi("kpi.net")
            # Devanagari is drawn with the font the app ships, fetched from the app itself.
            assert await page.evaluate(
                "document.fonts.check('16px \"Noto Sans Devanagari\"', 'शुद्ध बिक्री')"
            )
            assert any("noto-sans-devanagari" in url for url in visit.requests)
        # Nothing wider than the phone: no sideways scrolling of the page.
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        summary = await api_summary(site, shown_range(page))
        assert_same_totals(await kpis(page), summary["totals"])
        no_offsite(visit)
        await visit.screenshot(f"dashboard-{lang}-{'phone' if width < 500 else 'wide'}")

    async def test_the_language_switch_keeps_the_filters(
        self, browser: Browser, site: DemoSite
    ) -> None:
        visit = await open_page(browser, site, "/dashboard?marketplace=amazon")
        page = visit.page
        await page.click("#lang-switch")
        await page.wait_for_url("**lang=hi**")
        await wait_loaded(page, 0)
        assert shown_range(page)["marketplace"] == "amazon"
        assert await page.get_attribute("html", "lang") == "hi"
