"""Marketplace accounts: credentials checked by the adapter, encrypted, never shown again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox, SandboxApp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.db import transaction
from odop_sync.models import MarketplaceAccount
from tests.conftest import MakeAgency, MakeKey, bearer
from tests.sync.conftest import sandbox_transport

SANDBOX_URL = "http://amazon.sandbox"


@pytest.fixture
def sandbox() -> AmazonSandbox:
    return AmazonSandbox(time_scale=1000.0, app_credentials=SandboxApp())


def amazon_credentials(sandbox: AmazonSandbox, **overrides: Any) -> dict[str, Any]:
    creds = sandbox.credentials
    values = {
        "seller_id": SANDBOX_SELLER,
        "lwa_client_id": creds.client_id,
        "lwa_client_secret": creds.client_secret,
        "refresh_token": next(iter(creds.refresh_tokens)),
    }
    values.update(overrides)
    return values


async def _key(make_agency: MakeAgency, make_key: MakeKey, slug: str = "up-odop") -> str:
    await make_agency(slug)
    return await make_key("agency", slug)


class TestAccounts:
    async def test_credentials_are_stored_encrypted_and_never_shown(
        self,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sandbox: AmazonSandbox,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        key = await _key(make_agency, make_key)
        creds = amazon_credentials(sandbox)
        body = {"adapter": "amazon", "name": "Amazon.in", "credentials": creds, "stock_buffer": 1}
        r = await client.post("/v1/accounts", json=body, headers=bearer(key))
        assert r.status_code == 201, r.text
        listed = await client.get("/v1/accounts", headers=bearer(key))
        for text in (r.text, listed.text):
            assert creds["lwa_client_secret"] not in text
            assert creds["refresh_token"] not in text
        account = r.json()
        assert account["secrets_set"] == ["lwa_client_secret", "refresh_token"]
        assert account["settings"]["seller_id"] == SANDBOX_SELLER
        async with sessionmaker() as session:
            stored = await session.scalar(select(MarketplaceAccount.credentials_encrypted))
        assert stored is not None
        assert creds["refresh_token"] not in stored
        assert SANDBOX_SELLER not in stored

    async def test_credentials_that_do_not_fit_the_adapter_are_named_without_their_values(
        self,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sandbox: AmazonSandbox,
    ) -> None:
        key = await _key(make_agency, make_key)
        creds = amazon_credentials(sandbox, lwa_client_secret=["not", "a", "string-s3cr3t"])
        creds.pop("refresh_token")
        r = await client.post(
            "/v1/accounts",
            json={"adapter": "amazon", "name": "x", "credentials": creds},
            headers=bearer(key),
        )
        assert r.status_code == 422
        fields = {e["field"] for e in r.json()["errors"]}
        assert {"credentials.refresh_token", "credentials.lwa_client_secret"} <= fields
        assert "s3cr3t" not in r.text

    async def test_an_unknown_adapter_is_refused(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(make_agency, make_key)
        r = await client.post(
            "/v1/accounts",
            json={"adapter": "ebay", "name": "x", "credentials": {}},
            headers=bearer(key),
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "adapter"

    async def test_another_agency_cannot_see_or_check_the_account(
        self,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sandbox: AmazonSandbox,
    ) -> None:
        key = await _key(make_agency, make_key)
        other = await _key(make_agency, make_key, "khadi-board")
        r = await client.post(
            "/v1/accounts",
            json={"adapter": "amazon", "name": "a", "credentials": amazon_credentials(sandbox)},
            headers=bearer(key),
        )
        account_id = r.json()["id"]
        assert (
            await client.get(f"/v1/accounts/{account_id}", headers=bearer(other))
        ).status_code == 404
        r = await client.post(f"/v1/accounts/{account_id}/check", headers=bearer(other))
        assert r.status_code == 404
        assert (await client.get("/v1/accounts", headers=bearer(other))).json() == []


class TestConnectionCheck:
    async def test_the_check_reaches_the_marketplace_and_records_the_answer(
        self,
        app: Any,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sandbox: AmazonSandbox,
    ) -> None:
        app.state.adapter_transport = sandbox_transport(sandbox)
        key = await _key(make_agency, make_key)
        good = await client.post(
            "/v1/accounts",
            json={"adapter": "amazon", "name": "good", "credentials": amazon_credentials(sandbox)},
            headers=bearer(key),
        )
        bad = await client.post(
            "/v1/accounts",
            json={
                "adapter": "amazon",
                "name": "bad",
                "credentials": amazon_credentials(sandbox, refresh_token="Atzr|revoked"),
            },
            headers=bearer(key),
        )
        ok = await client.post(f"/v1/accounts/{good.json()['id']}/check", headers=bearer(key))
        refused = await client.post(f"/v1/accounts/{bad.json()['id']}/check", headers=bearer(key))
        assert ok.json()["ok"] is True
        assert refused.json()["ok"] is False
        assert "refused the credentials" in refused.json()["detail"]
        shown = (await client.get(f"/v1/accounts/{bad.json()['id']}", headers=bearer(key))).json()
        assert shown["last_check_ok"] is False


class TestAccountUpdate:
    async def test_new_credentials_are_merged_over_the_stored_ones_and_checked(
        self,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sandbox: AmazonSandbox,
        sessionmaker: async_sessionmaker[AsyncSession],
        app: Any,
    ) -> None:
        key = await _key(make_agency, make_key)
        other = await _key(make_agency, make_key, "khadi-board")
        creds = amazon_credentials(sandbox)
        body = {"adapter": "amazon", "name": "Amazon.in", "credentials": creds, "enabled": False}
        account_id = (await client.post("/v1/accounts", json=body, headers=bearer(key))).json()[
            "id"
        ]
        url = f"/v1/accounts/{account_id}"
        r = await client.patch(
            url, json={"credentials": {"lwa_client_secret": ["s3cr3t"]}}, headers=bearer(key)
        )
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == ["credentials.lwa_client_secret"]
        assert "s3cr3t" not in r.text
        r = await client.patch(url, json={"stock_buffer": 2}, headers=bearer(other))
        assert r.status_code == 404

        r = await client.patch(
            url,
            json={"credentials": {"refresh_token": "Atzr|reauthorised"}, "stock_buffer": 2},
            headers=bearer(key),
        )
        assert r.status_code == 200, r.text
        shown = r.json()
        assert "Atzr|reauthorised" not in r.text
        assert shown["stock_buffer"] == 2
        assert shown["secrets_set"] == ["lwa_client_secret", "refresh_token"]
        assert shown["settings"]["seller_id"] == SANDBOX_SELLER
        async with sessionmaker() as session:
            stored = await session.get(MarketplaceAccount, account_id)
            assert stored is not None
        plain = app.state.cipher.decrypt(stored.credentials_encrypted)
        assert plain["refresh_token"] == "Atzr|reauthorised"
        assert plain["lwa_client_secret"] == creds["lwa_client_secret"]

    async def test_a_successful_check_ends_the_wait(
        self,
        app: Any,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sandbox: AmazonSandbox,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        app.state.adapter_transport = sandbox_transport(sandbox)
        key = await _key(make_agency, make_key)
        body = {
            "adapter": "amazon",
            "name": "Amazon.in",
            "credentials": amazon_credentials(sandbox),
            "enabled": False,
        }
        account_id = (await client.post("/v1/accounts", json=body, headers=bearer(key))).json()[
            "id"
        ]
        since = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
        async with transaction(sessionmaker) as session:
            await session.execute(
                update(MarketplaceAccount)
                .where(MarketplaceAccount.id == account_id)
                .values(
                    problem="Login with Amazon refused the refresh token",
                    problem_since=since,
                    problem_failures=3,
                    problem_retry_at=since + timedelta(hours=4),
                )
            )
        shown = (await client.get(f"/v1/accounts/{account_id}", headers=bearer(key))).json()
        assert shown["problem"] == {
            "reason": "Login with Amazon refused the refresh token",
            "since": "2026-11-30T08:00:00Z",
            "failures": 3,
            "next_attempt_at": "2026-11-30T12:00:00Z",
        }
        r = await client.post(f"/v1/accounts/{account_id}/check", headers=bearer(key))
        assert r.json()["ok"] is True, r.text
        shown = (await client.get(f"/v1/accounts/{account_id}", headers=bearer(key))).json()
        assert shown["problem"] is None
