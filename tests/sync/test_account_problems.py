"""Accounts that cannot work wait quietly: credentials the marketplace refuses are shown on the
account and back off exponentially (no call before the next attempt time, whatever wakes the
account), a disabled account gets no calls at all, and fixing the account makes it sync.

The backoff here is an hour, so nothing waits for it to pass: where a test needs the time to
have come, it moves the stored next attempt time into the past, as the clock would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from adapters.amazon.sandbox import SANDBOX_SELLER, SandboxApp
from fastapi import FastAPI
from sqlalchemy import update

from odop_sync.app import create_app
from odop_sync.config import AccountSettings, Settings
from odop_sync.db import transaction
from odop_sync.kit.time import utcnow
from odop_sync.models import MarketplaceAccount
from tests.conftest import bearer
from tests.sync.conftest import MakeWorld, World, eventually

HOUR = 3600.0
NEW_REFRESH_TOKEN = "Atzr|sandbox-refresh-token-reauthorised"


@pytest.fixture
async def app(settings: Settings, engine: Any) -> AsyncIterator[FastAPI]:
    """The worker app with an hour's account backoff; its scheduler is stopped, and the tests
    fire the periodic jobs (sweep, reconcile, order pull) themselves."""
    patient = settings.model_copy(
        update={
            "accounts": AccountSettings(problem_backoff_base_s=HOUR, problem_backoff_max_s=4 * HOUR)
        }
    )
    application = create_app(patient, workers=True)
    async with application.router.lifespan_context(application):
        await application.state.scheduler.stop()
        yield application


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def _account(world: World, account_id: int) -> dict[str, Any]:
    r = await world.client.get(f"/v1/accounts/{account_id}", headers=bearer(world.key))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _set_price(world: World, sku: str, price: str) -> None:
    r = await world.client.patch(
        f"/v1/variants/{sku}", json={"price": price}, headers=bearer(world.key)
    )
    assert r.status_code == 200, r.text


async def _periodic_wake_ups(world: World) -> None:
    """The periodic sweep, reconcile and order pull, each to its end."""
    scheduler, engine = world.app.state.scheduler, world.app.state.sync
    for job in ("sync.sweep", "sync.reconcile", "orders.pull"):
        assert await scheduler.fire(job, force=True)
        await engine.wait_all_idle()


def _calls(world: World) -> int:
    return sum(world.sandbox.state.calls.values())


class TestRefusedCredentials:
    async def test_refused_mid_sync_the_account_says_why_and_waits_until_fixed(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world(items=3)
        account_id = await world.create_account(markup_percent="0", rounding="none")
        assert (await world.sync_now(account_id))["status"] == "done"
        assert (await _account(world, account_id))["problem"] is None
        sku = sorted(await world.remote())[0]

        # The seller withdraws the authorisation: the refresh token is refused from now on, and
        # the access token in hand dies, so the next call has to ask for a new one.
        world.sandbox.credentials = SandboxApp(refresh_tokens={NEW_REFRESH_TOKEN: SANDBOX_SELLER})
        world.sandbox.expire_tokens()
        tokens_before = world.sandbox.state.call_count("lwa.token")
        await _set_price(world, sku, "777.00")

        async def refused() -> bool:
            return (await _account(world, account_id))["problem"] is not None

        await eventually(refused, timeout=30.0)
        problem = (await _account(world, account_id))["problem"]
        assert problem["reason"].startswith("Login with Amazon refused the refresh token")
        assert "update the account's credentials" in problem["reason"]
        assert problem["failures"] == 1
        # First failure: the base backoff, an hour after it happened.
        waited = _when(problem["next_attempt_at"]) - _when(problem["since"])
        assert waited == timedelta(seconds=HOUR)
        await world.app.state.sync.wait_all_idle()
        tokens = world.sandbox.state.call_count("lwa.token")
        assert tokens > tokens_before  # the refusal came from the token endpoint
        calls = _calls(world)

        # Before the next attempt time nothing calls the marketplace: not another change, not
        # the sweep, the reconcile or the order pull, not "sync now" (which fails saying why).
        await _set_price(world, sku, "778.00")
        await _periodic_wake_ups(world)
        run = await world.sync_now(account_id)
        assert run["status"] == "failed"
        (result,) = run["summary"]["accounts"]
        assert result["result"].startswith("halted: Login with Amazon refused the refresh token")
        assert world.sandbox.state.call_count("lwa.token") == tokens
        assert _calls(world) == calls
        assert (await _account(world, account_id))["problem"]["failures"] == 1

        # The hour passes: the sweep tries again, is refused again, and waits twice as long.
        async with transaction(world.sessionmaker) as session:
            await session.execute(
                update(MarketplaceAccount)
                .where(MarketplaceAccount.id == account_id)
                .values(problem_retry_at=utcnow() - timedelta(seconds=1))
            )
        before = utcnow()
        assert await world.app.state.scheduler.fire("sync.sweep", force=True)
        await world.app.state.sync.wait_all_idle()
        after = utcnow()
        problem = (await _account(world, account_id))["problem"]
        assert problem["failures"] == 2
        assert world.sandbox.state.call_count("lwa.token") > tokens
        next_at = _when(problem["next_attempt_at"])
        assert (
            before + timedelta(seconds=2 * HOUR) <= next_at <= after + timedelta(seconds=2 * HOUR)
        )

        # The seller's new refresh token goes in: the wait ends and the change goes out.
        r = await world.client.patch(
            f"/v1/accounts/{account_id}",
            json={"credentials": {"refresh_token": NEW_REFRESH_TOKEN}},
            headers=bearer(world.key),
        )
        assert r.status_code == 200, r.text
        assert r.json()["problem"] is None
        assert NEW_REFRESH_TOKEN not in r.text

        async def synced() -> bool:
            remote = await world.remote()
            return Decimal(remote[sku]["price"]) == Decimal("778.00")

        await eventually(synced, timeout=30.0)
        await world.app.state.sync.wait_all_idle()
        assert (await _account(world, account_id))["problem"] is None

    async def test_the_problem_is_in_the_accounts_schema(self, make_world: MakeWorld) -> None:
        world = await make_world(items=1)
        schema = (await world.client.get("/openapi.json")).json()["components"]["schemas"]
        problem = schema["AccountRead"]["properties"]["problem"]
        assert {"$ref": "#/components/schemas/AccountProblem"} in problem["anyOf"]
        assert set(schema["AccountProblem"]["required"]) == {
            "reason",
            "since",
            "failures",
            "next_attempt_at",
        }
        patch = schema["AccountUpdate"]["properties"]
        assert {"credentials", "enabled", "markup_percent"} <= set(patch)


class TestDisabledAccount:
    async def test_a_disabled_account_gets_no_calls_until_it_is_enabled_again(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world(items=3)
        account_id = await world.create_account(markup_percent="0", rounding="none")
        assert (await world.sync_now(account_id))["status"] == "done"
        sku = sorted(await world.remote())[0]
        r = await world.client.patch(
            f"/v1/accounts/{account_id}", json={"enabled": False}, headers=bearer(world.key)
        )
        assert r.status_code == 200 and r.json()["enabled"] is False, r.text
        engine = world.app.state.sync
        leases: list[int] = []
        engine.observers.append(lambda event, a: leases.append(a) if event == "lease" else None)
        calls = _calls(world)

        await _set_price(world, sku, "555.00")
        # A wake-up still on its way (a timer set while it was enabled, a NOTIFY from another
        # process): the account is looked at, not leased, not called, and not woken again.
        engine.wake(account_id)
        await engine.wait_idle(account_id)
        await _periodic_wake_ups(world)
        r = await world.client.post(
            "/v1/sync/runs", json={"account_id": account_id}, headers=bearer(world.key)
        )
        assert r.status_code == 409, r.text
        assert leases == []
        assert _calls(world) == calls
        assert (await world.remote())[sku]["price"] != "555.00"

        r = await world.client.patch(
            f"/v1/accounts/{account_id}", json={"enabled": True}, headers=bearer(world.key)
        )
        assert r.status_code == 200, r.text

        async def synced() -> bool:
            return Decimal((await world.remote())[sku]["price"]) == Decimal("555.00")

        await eventually(synced, timeout=30.0)
        assert leases
