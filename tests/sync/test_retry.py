"""POST /v1/listings/{id}/retry: a listing paused by identical rejections goes out again at
once when retried, and the console's counts and sync status show it."""

from __future__ import annotations

from tests.conftest import bearer
from tests.sync.conftest import EVENT_TIMEOUT, MakeWorld, eventually


async def test_a_paused_listing_retried_goes_live(make_world: MakeWorld) -> None:
    world = await make_world(items=10)
    sku = "BHD-CARPET-3X5-RED"
    world.sandbox.faults.reject([sku], field="item_name", message="The title is prohibited.")
    account_id = await world.create_account()
    await world.sync_now(account_id)
    h = bearer(world.key)

    async def shown() -> dict[str, object]:
        r = await world.client.get(f"/v1/listings?account_id={account_id}&sku={sku}", headers=h)
        (row,) = r.json()["items"]
        return row  # type: ignore[no-any-return]

    async def paused() -> bool:
        return (await shown())["status"] == "paused"

    await eventually(paused, timeout=EVENT_TIMEOUT)
    listing_id = (await shown())["id"]
    (counts,) = (await world.client.get("/v1/listings/counts", headers=h)).json()
    assert counts["account_id"] == account_id
    assert counts["counts"] == {
        "pending": 0, "submitted": 0, "live": 9, "rejected": 0, "needs_mapping": 0, "paused": 1
    }  # fmt: skip
    assert counts["dirty"] == 1
    (status,) = (await world.client.get("/v1/sync/status", headers=h)).json()
    # a paused listing waits on a person, not on the engine: no lag (as the metric counts it)
    assert status["lag_seconds"] is None and status["oldest_dirty_since"] is None
    assert status["last_pushed_at"] is not None and status["open_feeds"] == 0
    assert status["last_run"]["status"] == "done"

    # The marketplace lifts its objection; the operator retries.
    world.sandbox.faults.rejections.clear()
    calls = world.sandbox.call_count("putListingsItem")
    r = await world.client.post(f"/v1/listings/{listing_id}/retry", headers=h)
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["failure_count"] == 0 and detail["paused_reason"] is None
    assert detail["issues"][0]["source"] == "engine"
    assert detail["issues"][0]["message"].startswith("retried by test agency")

    async def live() -> bool:
        return (await shown())["status"] == "live"

    await eventually(live, timeout=EVENT_TIMEOUT)
    assert world.sandbox.call_count("putListingsItem") == calls + 1
    assert sku in await world.remote()
    r = await world.client.post(f"/v1/listings/{listing_id}/retry", headers=h)
    assert r.status_code == 409
    assert "is live" in r.json()["detail"]
    assert r.headers["content-type"].startswith("application/problem+json")
