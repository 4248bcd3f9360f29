"""No tenant can aim the server at a host or a file (issue 11, point 3): in production settings,
credentials that name an endpoint, a token URL or a file on the server are refused with a 422
naming the field, and an account's calls go to the marketplace's own documented hosts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from adapters.amazon.sandbox import SANDBOX_SELLER
from adapters.amazon.sandbox import demo_credentials as amazon_credentials
from adapters.flipkart.sandbox import demo_credentials as flipkart_credentials

from odop_sync.app import create_app
from odop_sync.config import Settings
from tests.conftest import MakeAgency, MakeKey, bearer

GOOD_KEY = "Jq3v8yTb2nZr6WkD0sLm4XcHf7UeAp1G-9oRi5Vt"  # made up for this test


@pytest.fixture
async def production(database_url: str, engine: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(env="production", database_url=database_url, encryption_key=GOOD_KEY)  # type: ignore[arg-type]
    app = create_app(settings, workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


TENANT_HOSTS = [
    ("amazon", amazon_credentials, "endpoint", "https://attacker.example/"),
    ("amazon", amazon_credentials, "token_url", "http://169.254.169.254/latest/meta-data"),
    ("amazon", amazon_credentials, "product_types_file", "/etc/passwd"),
    ("flipkart", flipkart_credentials, "endpoint", "http://127.0.0.1:5432/"),
]


@pytest.mark.parametrize(("adapter", "credentials", "field", "value"), TENANT_HOSTS)
async def test_credentials_naming_a_host_or_a_file_are_refused(
    production: httpx.AsyncClient,
    make_agency: MakeAgency,
    make_key: MakeKey,
    adapter: str,
    credentials: Any,
    field: str,
    value: str,
) -> None:
    await make_agency("up-odop")
    key = await make_key("agency", "up-odop")
    body = {"adapter": adapter, "name": "x", "credentials": {**credentials(), field: value}}
    r = await production.post("/v1/accounts", json=body, headers=bearer(key))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == [f"credentials.{field}"]
    assert value not in r.text
    listed = await production.get("/v1/accounts", headers=bearer(key))
    assert listed.json() == []  # nothing half-created


async def test_an_unknown_amazon_marketplace_is_refused(
    production: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
) -> None:
    await make_agency("up-odop")
    key = await make_key("agency", "up-odop")
    creds = {**amazon_credentials(), "marketplace_id": "ATTACKER"}
    body = {"adapter": "amazon", "name": "x", "credentials": creds}
    r = await production.post("/v1/accounts", json=body, headers=bearer(key))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["credentials.marketplace_id"]


async def test_the_check_calls_amazons_documented_hosts(
    production: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
) -> None:
    """The connection check of an Amazon.in account asks Login with Amazon's global token
    endpoint and the EU SP-API endpoint (Amazon's "SP-API Endpoints" table), nothing else."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.scheme}://{request.url.host}{request.url.path}")
        if request.url.path == "/auth/o2/token":
            return httpx.Response(200, json={"access_token": "Atza|t", "expires_in": 3600})
        return httpx.Response(200, json={"numberOfResults": 0, "items": []})

    await make_agency("up-odop")
    key = await make_key("agency", "up-odop")
    body = {"adapter": "amazon", "name": "x", "credentials": amazon_credentials()}
    created = await production.post("/v1/accounts", json=body, headers=bearer(key))
    assert created.status_code == 201, created.text
    prod_app = production._transport.app  # type: ignore[attr-defined]
    prod_app.state.adapter_transport = httpx.MockTransport(answer)
    r = await production.post(f"/v1/accounts/{created.json()['id']}/check", headers=bearer(key))
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True, r.json()
    assert seen == [
        "https://api.amazon.com/auth/o2/token",
        f"https://sellingpartnerapi-eu.amazon.com/listings/2021-08-01/items/{SANDBOX_SELLER}",
    ]
