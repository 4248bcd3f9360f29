"""A large re-projection on the item route is recorded chunk by chunk while the engine pushes what
is recorded already: the first calls go out before the last chunk is written, the account still
converges, and the watermark moves only once every chunk is in."""

from __future__ import annotations

from typing import Any

import pytest

from odop_sync.models import ListingStatus, MarketplaceAccount
from odop_sync.sync import engine as engine_module
from odop_sync.sync import repository as repo
from tests.sync.conftest import MakeWorld
from tests.sync.test_end_to_end import _assert_converged


@pytest.mark.parametrize("marketplace", ["flipkart", "amazon"])
async def test_a_full_pass_pushes_while_it_projects(
    make_world: MakeWorld, monkeypatch: pytest.MonkeyPatch, marketplace: str
) -> None:
    world = await make_world(marketplace=marketplace)
    engine = world.app.state.sync
    if marketplace == "amazon":  # the item route only (a feed is chosen by the whole set)
        engine.settings = engine.settings.model_copy(update={"bulk_feeds": False})
    # 79 demo variants in chunks of 10: eight transactions.
    monkeypatch.setattr(engine_module, "PROJECT_WHILE_PUSHING_CHUNK", 10)
    write = "createListings" if marketplace == "flipkart" else "putListingsItem"
    calls_at_chunk: list[int] = []
    watermark_at: list[int] = []
    chunk, finish = repo.refresh_chunk, repo.finish_refresh

    async def counting_chunk(*args: Any, **kwargs: Any) -> None:
        calls_at_chunk.append(world.sandbox.call_count(write))
        await chunk(*args, **kwargs)

    async def counting_finish(*args: Any, **kwargs: Any) -> None:
        watermark_at.append(len(calls_at_chunk))
        await finish(*args, **kwargs)

    monkeypatch.setattr(repo, "refresh_chunk", counting_chunk)
    monkeypatch.setattr(repo, "finish_refresh", counting_finish)
    account_id = await world.create_account()
    run = await world.sync_now(account_id)
    assert run["status"] == "done", run
    await _assert_converged(world, account_id)
    # One full pass or two (the new account's own wake-up may come first), eight chunks each.
    assert len(calls_at_chunk) in (8, 16), calls_at_chunk
    # Pushing began before the first re-projection was done.
    assert calls_at_chunk[7] > 0, calls_at_chunk
    # The watermark moved with each pass's last chunk, not before.
    assert watermark_at == list(range(8, len(calls_at_chunk) + 1, 8)), watermark_at
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
