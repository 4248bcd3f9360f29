"""`POST /v1/sync/runs`: tenant-scoped, refuses a disabled account, and is done when synced."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from odop_sync.db import transaction
from odop_sync.models import MarketplaceAccount
from tests.conftest import MakeAgency, MakeKey, bearer
from tests.sync.conftest import MakeWorld


class TestRunsApi:
    async def test_runs_are_scoped_checked_and_finish(
        self, make_world: MakeWorld, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        world = await make_world(items=5)
        account_id = await world.create_account()
        client: httpx.AsyncClient = world.client
        r = await client.post(
            "/v1/sync/runs", json={"account_id": account_id}, headers=bearer(world.key)
        )
        assert r.status_code == 202, r.text
        assert r.headers["Location"] == f"/v1/sync/runs/{r.json()['id']}"
        assert r.json()["status"] == "queued"
        done = await world.sync_now(None)  # every enabled account of the agency
        assert done["status"] == "done"
        (summary,) = done["summary"]["accounts"]
        assert summary["account_id"] == account_id and summary["listings"] == {
            "live": 5,
            "total": 5,
        }

        await make_agency("khadi-board")
        other = await make_key("agency", "khadi-board")
        partner = await make_key("partner", None, ["up-odop"])
        run_id = done["id"]
        assert (
            await client.get(f"/v1/sync/runs/{run_id}", headers=bearer(other))
        ).status_code == 404
        assert (await client.get("/v1/sync/runs", headers=bearer(other))).json() == []
        r = await client.post(
            "/v1/sync/runs", json={"account_id": account_id}, headers=bearer(other)
        )
        assert r.status_code == 404
        r = await client.post("/v1/sync/runs", json={}, headers=bearer(partner))
        assert r.status_code == 403
        assert (await client.post("/v1/sync/runs", json={})).status_code == 401

        async with transaction(world.sessionmaker) as session:
            await session.execute(
                update(MarketplaceAccount)
                .values(enabled=False)
                .where(MarketplaceAccount.id == account_id)
            )
        r = await client.post(
            "/v1/sync/runs", json={"account_id": account_id}, headers=bearer(world.key)
        )
        assert r.status_code == 409
        assert "disabled" in r.json()["detail"]
