"""A large re-projection on the item route is recorded chunk by chunk while the engine pushes what
is recorded already: the first calls go out before the last chunk is written, the account still
converges, and the watermark moves only once every chunk of a re-projection is in."""

from __future__ import annotations

from typing import Any

import pytest

from odop_sync.models import ListingStatus, MarketplaceAccount
from odop_sync.sync import engine as engine_module
from odop_sync.sync import repository as repo
from tests.sync.conftest import EVENT_TIMEOUT, MakeWorld, eventually
from tests.sync.test_end_to_end import _assert_converged


@pytest.mark.parametrize("marketplace", ["flipkart", "amazon"])
async def test_a_full_pass_pushes_while_it_projects(
    make_world: MakeWorld, monkeypatch: pytest.MonkeyPatch, marketplace: str
) -> None:
    world = await make_world(marketplace=marketplace)
    engine = world.app.state.sync
    if marketplace == "amazon":  # the item route only (a feed is chosen by the whole set)
        engine.settings = engine.settings.model_copy(update={"bulk_feeds": False})
    # 79 demo variants in chunks of 10: eight transactions per re-projection.
    monkeypatch.setattr(engine_module, "PROJECT_WHILE_PUSHING_CHUNK", 10)
    write = "createListings" if marketplace == "flipkart" else "putListingsItem"
    chunk, finish = repo.refresh_chunk, repo.finish_refresh
    recorded: dict[int, int] = {}  # plan -> variants recorded
    finished: list[tuple[int, int]] = []  # (variants recorded, planned) at each watermark
    calls_before_last_chunk: list[int] = []

    async def held_chunk(
        session: Any, account: Any, plan: repo.RefreshPlan, ids: Any, *a: Any, **kw: Any
    ) -> None:
        chunked = len(ids) < len(plan.todo)
        if not calls_before_last_chunk and chunked and ids[-1] == plan.todo[-1]:
            # The first re-projection's last chunk waits for a marketplace call:
            # an engine that pushed only after projecting everything would never make one.
            async def called() -> bool:
                return world.sandbox.call_count(write) > 0

            await eventually(called, timeout=EVENT_TIMEOUT)
            calls_before_last_chunk.append(world.sandbox.call_count(write))
        await chunk(session, account, plan, ids, *a, **kw)
        recorded[id(plan)] = recorded.get(id(plan), 0) + len(ids)

    async def counted_finish(session: Any, account: Any, plan: repo.RefreshPlan) -> None:
        finished.append((recorded.get(id(plan), 0), len(plan.todo)))
        await finish(session, account, plan)

    monkeypatch.setattr(repo, "refresh_chunk", held_chunk)
    monkeypatch.setattr(repo, "finish_refresh", counted_finish)
    account_id = await world.create_account()
    run = await world.sync_now(account_id)
    assert run["status"] == "done", run
    await _assert_converged(world, account_id)
    # Pushing began while the first re-projection still had its last chunk to record.
    assert calls_before_last_chunk and calls_before_last_chunk[0] > 0
    # The watermark moved only after every variant of its re-projection was recorded.
    assert finished and all(done == planned for done, planned in finished), finished
    async with world.sessionmaker() as session:
        account = await session.get(MarketplaceAccount, account_id)
        assert account is not None and account.projected_at is not None
    listings = await world.listings(account_id)
    assert len(listings) == 79
    for row in listings:
        if row.status is ListingStatus.NEEDS_MAPPING:
            continue
        assert row.status is ListingStatus.LIVE, row.sku
        assert row.confirmed_content_hash == row.desired_content_hash
        assert row.confirmed_offer_hash == row.desired_offer_hash


async def test_a_wake_up_does_not_stop_the_push_while_a_projection_is_recorded(
    make_world: MakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass waits for its re-projection in any case: a wake-up (a catalog change, a sweep)
    arriving meanwhile must not end its windows early, or the marketplace's rate idles until
    the last chunk is in."""
    world = await make_world()
    engine = world.app.state.sync
    engine.settings = engine.settings.model_copy(update={"bulk_feeds": False, "window_items": 5})
    monkeypatch.setattr(engine_module, "PROJECT_WHILE_PUSHING_CHUNK", 10)
    chunk = repo.refresh_chunk
    account_id = await world.create_account()
    held: list[int] = []

    async def held_chunk(
        session: Any, account: Any, plan: repo.RefreshPlan, ids: Any, *a: Any, **kw: Any
    ) -> None:
        chunked = len(ids) < len(plan.todo)
        if chunked and not held and ids[0] == plan.todo[0]:
            engine.wake(account_id)  # arrives while the first chunk is being recorded
        if chunked and not held and ids[-1] == plan.todo[-1]:
            # More calls than one window makes: the windows went on after the wake-up.
            async def more_than_a_window() -> bool:
                return world.sandbox.call_count("putListingsItem") > 5

            await eventually(more_than_a_window, timeout=EVENT_TIMEOUT)
            held.append(world.sandbox.call_count("putListingsItem"))
        await chunk(session, account, plan, ids, *a, **kw)

    monkeypatch.setattr(repo, "refresh_chunk", held_chunk)
    run = await world.sync_now(account_id)
    assert run["status"] == "done", run
    assert held and held[0] > 5
    await _assert_converged(world, account_id)
