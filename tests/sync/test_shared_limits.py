"""One rate limiter per (account, operation) for the whole process (issue 12): the connection
check, the sync engine and the order puller of one account spend the same tokens, so together
they cannot call a marketplace faster than its limit for that account."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx
from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox, SandboxApp, demo_credentials
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.kit.time import utcnow
from odop_sync.models import MarketplaceAccount
from tests.conftest import MakeAgency, MakeKey, bearer
from tests.sync.conftest import sandbox_transport


class StoppedClock:
    """The limiter's clock held still, so a spent token is not refilled while the test looks."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def monotonic(self) -> float:
        return self.now

    def utcnow(self) -> datetime:
        return utcnow()

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_the_check_spends_the_tokens_the_sync_and_the_order_pull_then_have(
    app: Any,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_agency: MakeAgency,
    make_key: MakeKey,
) -> None:
    sandbox = AmazonSandbox(time_scale=1000.0, app_credentials=SandboxApp())
    app.state.adapter_transport = sandbox_transport(sandbox)
    await make_agency("up-odop")
    key = await make_key("agency", "up-odop")
    body = {"adapter": "amazon", "name": "Amazon.in", "credentials": demo_credentials()}
    r = await client.post("/v1/accounts", json=body, headers=bearer(key))
    assert r.status_code == 201, r.text
    async with sessionmaker() as session:
        account = await session.get(MarketplaceAccount, r.json()["id"])
    assert account is not None
    engine_adapter = await app.state.sync.adapter_for(account)
    assert not isinstance(engine_adapter, str), engine_adapter
    limiter = engine_adapter.limiter
    limiter.clock = StoppedClock()
    # The check reads one page of listings back (searchListingsItems), Amazon's bucket for it
    # starting full.
    full = limiter.state("searchListingsItems").tokens

    r = await client.post(f"/v1/accounts/{account.id}/check", headers=bearer(key))
    assert r.json()["ok"] is True, r.text
    assert (SANDBOX_SELLER, "searchListingsItems") in sandbox.loads

    # The token the check spent is gone for the engine's own calls of that operation...
    assert limiter.state("searchListingsItems").tokens == full - 1
    # ...and for the order puller's, which reaches the same adapter.
    assert await app.state.order_puller.adapter_for(account) is engine_adapter
    r = await client.post(f"/v1/accounts/{account.id}/check", headers=bearer(key))
    assert r.json()["ok"] is True, r.text
    assert limiter.state("searchListingsItems").tokens == full - 2
