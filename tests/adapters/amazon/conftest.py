from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from adapters.amazon.adapter import AmazonAdapter, AmazonConfig
from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox, SandboxApp
from pydantic import SecretStr

from odop_sync.adapter_sdk import ListingPayload, Money
from odop_sync.adapter_sdk.testing import ConformanceEnv, conformance_env, sample_listing

BASE_URL = "http://amazon.sandbox"
# Marketplace time runs 1000 times faster: a 90 s feed cycle takes 90 ms of real time.
TIME_SCALE = 1000.0


def sandbox_config(sandbox: AmazonSandbox, **overrides: Any) -> AmazonConfig:
    creds = sandbox.credentials
    values: dict[str, Any] = {
        "seller_id": SANDBOX_SELLER,
        "lwa_client_id": creds.client_id,
        "lwa_client_secret": SecretStr(creds.client_secret),
        "refresh_token": SecretStr(next(iter(creds.refresh_tokens))),
    }
    values.update(overrides)
    return AmazonConfig(**values)


@asynccontextmanager
async def amazon_env(
    sandbox: AmazonSandbox | None = None, **config: Any
) -> AsyncIterator[ConformanceEnv]:
    sandbox = sandbox or AmazonSandbox(time_scale=TIME_SCALE, app_credentials=SandboxApp())
    async with conformance_env(
        AmazonAdapter,
        sandbox_config(sandbox, **config),
        app=sandbox.app,
        sandbox=sandbox,
        account=SANDBOX_SELLER,
    ) as env:
        yield env


async def client_for(sandbox: AmazonSandbox) -> httpx.AsyncClient:
    """A client of the sandbox app holding an LWA access token."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url=BASE_URL)
    creds = sandbox.credentials
    token = await client.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": next(iter(creds.refresh_tokens)),
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
        },
    )
    client.headers["x-amz-access-token"] = token.json()["access_token"]
    return client


def listing(sku: str, **overrides: Any) -> ListingPayload:
    return sample_listing(sku, **overrides)


def samples() -> list[ListingPayload]:
    return [
        listing("BHD-CARPET-RED"),
        listing(
            "LKO-CHIKAN-KURTA-M",
            title="Lucknow chikankari cotton kurta",
            craft="chikankari",
            odop_product="Chikankari",
            hsn_code="620520",
            material="Cotton",
            color="White",
            size="M",
            mrp=Money(amount=249_900),
            price=Money(amount=199_900),
            gi_tag="Lucknow Chikan Craft",
        ),
        listing(
            "GKP-TERRACOTTA-HORSE",
            title="Gorakhpur terracotta horse",
            craft="terracotta",
            odop_product="Terracotta",
            hsn_code="691390",
            material="Terracotta",
            color="Brown",
            size=None,
            mrp=Money(amount=150_000),
            price=Money(amount=120_000),
            gi_tag="Gorakhpur Terracotta",
        ),
    ]


@pytest.fixture
def sample_listings() -> list[ListingPayload]:
    return samples()


@pytest.fixture
async def env() -> AsyncIterator[ConformanceEnv]:
    async with amazon_env() as env:
        yield env
