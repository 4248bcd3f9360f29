"""/docs and /redoc load nothing from another host: every script, style sheet and icon they name
is served by the app itself (issue 11: the docs must work with the network cut)."""

from __future__ import annotations

import re

import httpx
import pytest

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_pages_need_no_other_host(client: httpx.AsyncClient, page: str) -> None:
    r = await client.get(page)
    assert r.status_code == 200
    html = r.text
    assets = [a or b for a, b in ASSET.findall(html)]
    assert any(a.endswith(".js") for a in assets), html
    for asset in assets:
        assert not re.match(r"(?i)^(https?:)?//", asset), f"{page} loads {asset} from another host"
        got = await client.get(asset)
        assert got.status_code == 200, f"{asset}: {got.status_code}"
    assert "fonts.googleapis" not in html
    assert "cdn.jsdelivr" not in html


async def test_swagger_ui_does_not_call_the_public_validator(client: httpx.AsyncClient) -> None:
    html = (await client.get("/docs")).text
    assert '"validatorUrl": null' in html
