"""Switching the sync engine off does not switch off order pulling (issue 11, point 5): each
has its own setting, and a worker with sync.enabled = false still pulls every account's orders."""

from __future__ import annotations

from typing import Any

import httpx
from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox, SandboxApp, demo_credentials

from odop_sync.app import create_app
from odop_sync.config import Settings
from tests.conftest import MakeAgency, MakeKey, bearer
from tests.sync.conftest import sandbox_transport


async def test_orders_are_pulled_with_the_sync_engine_off(
    settings: Settings, engine: Any, make_agency: MakeAgency, make_key: MakeKey
) -> None:
    off = settings.model_copy(update={"sync": settings.sync.model_copy(update={"enabled": False})})
    app = create_app(off, workers=True)
    sandbox = AmazonSandbox(time_scale=1000.0, app_credentials=SandboxApp())
    async with app.router.lifespan_context(app):
        assert app.state.sync is None  # nothing is pushed
        jobs = app.state.scheduler.jobs
        assert "orders.pull" in jobs
        assert not any(name.startswith("sync.") for name in jobs)
        app.state.adapter_transport = sandbox_transport(sandbox)
        await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            body = {"adapter": "amazon", "name": "Amazon.in", "credentials": demo_credentials()}
            r = await c.post("/v1/accounts", json=body, headers=bearer(key))
            assert r.status_code == 201, r.text
        await jobs["orders.pull"].run()
        assert (SANDBOX_SELLER, "searchOrders") in sandbox.loads  # the orders were asked for
        assert not any(op.endswith("ListingsItem") for _, op in sandbox.loads)
