"""POST /v1/sync/runs ("sync now") and reading runs back. The sync engine is not running here:
a run stays queued, and the tests listen for the wake-up the engine would get
(tests/sync/test_runs_api.py runs one to the end)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from adapters.amazon.sandbox import demo_credentials
from fastapi import FastAPI
from sqlalchemy import select

from odop_sync.app import create_app
from odop_sync.config import Settings
from odop_sync.db import create_engine, read_only
from odop_sync.models import SyncRun
from tests.conftest import MakeAgency, MakeKey, bearer


@pytest.fixture
async def app(settings: Settings, engine: Any) -> AsyncIterator[FastAPI]:
    quiet = settings.model_copy(
        update={"sync": settings.sync.model_copy(update={"enabled": False})}
    )
    application = create_app(quiet, workers=False)
    async with application.router.lifespan_context(application):
        yield application


async def add_account(
    client: httpx.AsyncClient, key: str, name: str = "Amazon.in", **rules: Any
) -> int:
    body = {
        "adapter": "amazon",
        "name": name,
        "credentials": demo_credentials(),
        **rules,
    }
    r = await client.post("/v1/accounts", json=body, headers=bearer(key))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def committed_status(settings: Settings, run_id: int) -> str | None:
    """The run's status as another connection sees it, i.e. only once it is committed."""

    async def read() -> str | None:
        engine = create_engine(settings)
        try:
            async with read_only(engine).connect() as conn:
                status: str | None = await conn.scalar(
                    select(SyncRun.status).where(SyncRun.id == run_id)
                )
                return status
        finally:
            await engine.dispose()

    seen: list[str | None] = []
    # The listener is called synchronously on the event loop: read from a thread of our own.
    thread = threading.Thread(target=lambda: seen.append(asyncio.run(read())))
    thread.start()
    thread.join(30)
    return seen[0] if seen else None


class TestSyncNow:
    async def test_a_run_is_queued_committed_and_announced(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        settings: Settings,
        make_agency: MakeAgency,
        make_key: MakeKey,
    ) -> None:
        agency = await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        account_id = await add_account(client, key)
        heard: list[tuple[int, str | None]] = []
        app.state.events.subscribe_runs(
            lambda run_id: heard.append((run_id, committed_status(settings, run_id)))
        )

        r = await client.post("/v1/sync/runs", json={"account_id": account_id}, headers=bearer(key))

        assert r.status_code == 202, r.text
        run = r.json()
        assert r.headers["Location"] == f"/v1/sync/runs/{run['id']}"
        assert heard == [(run["id"], "queued")]
        assert run["agency_id"] == agency.id
        assert run["account_id"] == account_id
        assert run["status"] == "queued"
        assert run["requested_by"].startswith("key:")
        assert run["created_at"] is not None
        assert run["finished_at"] is None
        assert run["summary"] is None
        got = await client.get(r.headers["Location"], headers=bearer(key))
        assert got.status_code == 200
        assert got.json() == run

    async def test_no_account_means_every_enabled_account(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        await add_account(client, key)
        r = await client.post("/v1/sync/runs", json={"account_id": None}, headers=bearer(key))
        assert r.status_code == 202, r.text
        assert r.json()["account_id"] is None
        r = await client.post("/v1/sync/runs", json={}, headers=bearer(key))
        assert r.status_code == 202, r.text

    async def test_a_disabled_account_is_a_conflict(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        account_id = await add_account(client, key, enabled=False)
        r = await client.post("/v1/sync/runs", json={"account_id": account_id}, headers=bearer(key))
        assert r.status_code == 409
        assert r.headers["content-type"] == "application/problem+json"
        assert "disabled" in r.json()["detail"]
        assert (await client.get("/v1/sync/runs", headers=bearer(key))).json() == []

    async def test_unknown_and_foreign_accounts_are_not_found(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        await make_agency("up-odop")
        await make_agency("khadi-board")
        key = await make_key("agency", "up-odop")
        other = await make_key("agency", "khadi-board")
        account_id = await add_account(client, key)
        r = await client.post(
            "/v1/sync/runs", json={"account_id": account_id}, headers=bearer(other)
        )
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        r = await client.post("/v1/sync/runs", json={"account_id": 999_999}, headers=bearer(key))
        assert r.status_code == 404

    async def test_an_admin_acts_for_a_named_agency(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        agency = await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        admin = await make_key("admin")
        account_id = await add_account(client, key)
        r = await client.post(
            "/v1/sync/runs", json={"account_id": account_id}, headers=bearer(admin)
        )
        assert r.status_code == 422
        assert "?agency=" in r.json()["detail"]
        r = await client.post(
            "/v1/sync/runs",
            params={"agency": "up-odop"},
            json={"account_id": account_id},
            headers=bearer(admin),
        )
        assert r.status_code == 202, r.text
        assert r.json()["agency_id"] == agency.id
        r = await client.post(
            "/v1/sync/runs", params={"agency": "nowhere"}, json={}, headers=bearer(admin)
        )
        assert r.status_code == 404

    async def test_partners_and_anonymous_callers_cannot_sync(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        await make_agency("up-odop")
        partner = await make_key("partner", None, ["up-odop"])
        r = await client.post("/v1/sync/runs", json={}, headers=bearer(partner))
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"
        assert (await client.post("/v1/sync/runs", json={})).status_code == 401


class TestReadingRuns:
    async def test_runs_are_listed_newest_first_and_only_to_their_agency(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        await make_agency("up-odop")
        await make_agency("khadi-board")
        key = await make_key("agency", "up-odop")
        other = await make_key("agency", "khadi-board")
        partner = await make_key("partner", None, ["up-odop"])
        admin = await make_key("admin")
        account_id = await add_account(client, key)
        await add_account(client, other)
        ours = []
        for body in ({"account_id": account_id}, {}, {"account_id": account_id}):
            r = await client.post("/v1/sync/runs", json=body, headers=bearer(key))
            ours.append(r.json()["id"])
        r = await client.post("/v1/sync/runs", json={}, headers=bearer(other))
        theirs = r.json()["id"]

        runs = (await client.get("/v1/sync/runs", headers=bearer(key))).json()
        assert [run["id"] for run in runs] == ours[::-1]
        two = (await client.get("/v1/sync/runs", params={"limit": 2}, headers=bearer(key))).json()
        assert [run["id"] for run in two] == ours[:0:-1]
        r = await client.get("/v1/sync/runs", params={"limit": 101}, headers=bearer(key))
        assert r.status_code == 422
        everyone = (await client.get("/v1/sync/runs", headers=bearer(admin))).json()
        assert [run["id"] for run in everyone] == [theirs, *ours[::-1]]

        assert (
            await client.get(f"/v1/sync/runs/{ours[0]}", headers=bearer(key))
        ).status_code == 200
        r = await client.get(f"/v1/sync/runs/{ours[0]}", headers=bearer(other))
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        r = await client.get(f"/v1/sync/runs/{ours[0]}", headers=bearer(partner))
        assert r.status_code == 403
        assert (await client.get("/v1/sync/runs", headers=bearer(partner))).status_code == 403
        assert (await client.get(f"/v1/sync/runs/{ours[0]}")).status_code == 401
        r = await client.get("/v1/sync/runs/999999", headers=bearer(key))
        assert r.status_code == 404
