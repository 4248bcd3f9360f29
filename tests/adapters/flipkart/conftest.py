from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from adapters.flipkart.adapter import FlipkartAdapter, FlipkartConfig
from adapters.flipkart.sandbox import SANDBOX_LOCATION, SANDBOX_SELLER, FlipkartSandbox
from pydantic import SecretStr

from odop_sync.adapter_sdk import ListingPayload, Money
from odop_sync.adapter_sdk.testing import ConformanceEnv, conformance_env, sample_listing

BASE_URL = "http://flipkart.sandbox"
# Marketplace time runs 1000 times faster than the wall clock.
TIME_SCALE = 1000.0
FSN = "CRPG5ZHBQYVZHKXA"


def sandbox_config(sandbox: FlipkartSandbox, **overrides: Any) -> FlipkartConfig:
    creds = sandbox.credentials
    values: dict[str, Any] = {
        "app_id": creds.app_id,
        "app_secret": SecretStr(creds.app_secret),
        "location_id": SANDBOX_LOCATION,
    }
    values.update(overrides)
    return FlipkartConfig(**values)


@asynccontextmanager
async def flipkart_env(
    sandbox: FlipkartSandbox | None = None, **config: Any
) -> AsyncIterator[ConformanceEnv]:
    sandbox = sandbox or FlipkartSandbox(time_scale=TIME_SCALE)
    async with conformance_env(
        FlipkartAdapter,
        sandbox_config(sandbox, **config),
        app=sandbox.app,
        sandbox=sandbox,
        account=SANDBOX_SELLER,
    ) as env:
        yield env


async def client_for(sandbox: FlipkartSandbox) -> httpx.AsyncClient:
    """A client of the sandbox app holding a bearer token."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url=BASE_URL)
    creds = sandbox.credentials
    token = await client.get(
        "/oauth-service/oauth/token",
        params={"grant_type": "client_credentials", "scope": "Seller_Api"},
        auth=(creds.app_id, creds.app_secret),
    )
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "bearer"
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def listing(sku: str, fsn: str | None = FSN, **overrides: Any) -> ListingPayload:
    """The SDK's sample carpet, mapped to an FSN unless `fsn` is None."""
    overrides.setdefault("marketplace_attributes", {"fsn": fsn} if fsn else {})
    return sample_listing(sku, **overrides)


def samples() -> list[ListingPayload]:
    return [
        listing("BHD-CARPET-RED"),
        listing(
            "LKO-CHIKAN-KURTA-M",
            fsn="KTAGB2Y7ZQ4HXNME",
            title="Lucknow chikankari cotton kurta",
            craft="Chikankari",
            hsn_code="620520",
            mrp=Money(amount=249_900),
            price=Money(amount=199_900),
        ),
        listing(
            "GKP-TERRACOTTA-HORSE",
            fsn="SHIFZ3HQ8KYMDPRT",
            title="Gorakhpur terracotta horse",
            craft="Terracotta",
            hsn_code="691390",
            mrp=Money(amount=150_000),
            price=Money(amount=120_000),
            attributes={"made_to_order": True},
        ),
    ]


@pytest.fixture
def sample_listings() -> list[ListingPayload]:
    return samples()


@pytest.fixture
async def env() -> AsyncIterator[ConformanceEnv]:
    async with flipkart_env() as env:
        yield env
