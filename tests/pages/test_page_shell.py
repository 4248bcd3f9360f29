"""The pages' shell without a browser: both languages have every label the pages use, the
pages are served with a self-only Content-Security-Policy, and every asset they name is served
by the app itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

PAGES = Path(__file__).resolve().parents[2] / "src/odop_sync/pages"


def labels(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((PAGES / "messages" / f"{lang}.json").read_text("utf-8"))
    return data


def used_keys() -> set[str]:
    """Every label a script asks for with t("…") and a template with t["…"]."""
    keys: set[str] = set()
    for script in (PAGES / "static").glob("*.js"):
        keys |= set(re.findall(r'\bt\("([a-z_.]+)"', script.read_text("utf-8")))
    for template in (PAGES / "templates").glob("*.html"):
        keys |= set(re.findall(r"t\[['\"]([a-z_.]+)['\"]\]", template.read_text("utf-8")))
    return keys


class TestMessages:
    def test_english_and_hindi_have_the_same_labels(self) -> None:
        assert set(labels("en")) == set(labels("hi"))

    def test_every_label_the_pages_use_is_in_both_files(self) -> None:
        used = used_keys()
        assert len(used) > 50
        for lang in ("en", "hi"):
            assert used - set(labels(lang)) == set(), lang

    def test_hindi_labels_are_in_devanagari(self) -> None:
        hindi = labels("hi")
        for key in ("dashboard.title", "console.title", "kpi.net", "signin.title"):
            assert re.search("[\u0900-\u097f]", hindi[key]), key


class TestServed:
    @pytest.mark.parametrize("path", ["/dashboard", "/console", "/console?lang=hi"])
    async def test_the_page_and_every_asset_it_names_come_from_the_app(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        r = await client.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "connect-src 'self'" in csp
        assert "script-src 'self'" in csp
        assets = re.findall(r'(?:src|href)="(/[^"]+)"', r.text)
        assert any(a.endswith(".js") or ".js?" in a for a in assets)
        for asset in assets:
            if asset.startswith("/pages/static/"):
                assert (await client.get(asset)).status_code == 200, asset
        assert "://" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', r.text))

    async def test_the_language_comes_from_the_address_and_falls_back_to_english(
        self, client: httpx.AsyncClient
    ) -> None:
        hindi = await client.get("/dashboard?lang=hi")
        assert '<html lang="hi"' in hindi.text
        assert labels("hi")["dashboard.title"] in hindi.text
        unknown = await client.get("/dashboard?lang=xx")
        assert '<html lang="en"' in unknown.text

    async def test_the_devanagari_font_is_served(self, client: httpx.AsyncClient) -> None:
        css = (await client.get("/pages/static/pages.css")).text
        fonts = re.findall(r'url\("([^"]+\.woff2)"\)', css)
        assert len(fonts) == 2
        for font in fonts:
            r = await client.get(f"/pages/static/{font}")
            assert r.status_code == 200
            assert r.content[:4] == b"wOF2"
