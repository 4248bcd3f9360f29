"""A scan (a sweep's look for what changed since the account's watermark) re-projects only the
variants whose rows changed after the listing was projected from them: a batch published seconds
before the last projection is not projected all over again, and a change whose timestamp falls
before the watermark but was committed after the projection read is still caught."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from odop_sync.models import Listing, MarketplaceAccount, Variant
from odop_sync.sync import repository as repo
from tests.sync.conftest import EVENT_TIMEOUT, MakeWorld, eventually


async def _scan(world: Any, account_id: int) -> list[list[int]]:
    """Wake the account as a sweep does and return the variant ids each re-projection covered."""
    planned: list[list[int]] = []
    real = repo.plan_refresh

    async def spy(*args: Any, **kwargs: Any) -> repo.RefreshPlan:
        plan = await real(*args, **kwargs)
        planned.append(list(plan.todo))
        return plan

    engine = world.app.state.sync
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repo, "plan_refresh", spy)
        engine.wake(account_id)
        await engine.wait_idle(account_id)
    return planned


async def _synced(make_world: MakeWorld) -> tuple[Any, int]:
    """The demo catalog on an Amazon account, synced once."""
    world = await make_world()
    account_id = await world.create_account()
    run = await world.sync_now(account_id)
    assert run["status"] == "done", run
    return world, account_id


async def test_a_scan_skips_what_was_projected_from_the_current_rows(
    make_world: MakeWorld,
) -> None:
    world, account_id = await _synced(make_world)
    async with world.sessionmaker() as session:
        account = await session.get(MarketplaceAccount, account_id)
        assert account is not None and account.projected_at is not None
        newest = await session.scalar(
            select(Variant.updated_at)
            .where(Variant.agency_id == world.agency_id)
            .order_by(Variant.updated_at.desc())
            .limit(1)
        )
    # The whole catalog changed within the watermark's overlap, just before the projection.
    assert newest is not None and account.projected_at - newest < timedelta(seconds=10)
    assert await _scan(world, account_id) == []


async def test_a_change_committed_after_the_projection_read_it_is_caught(
    make_world: MakeWorld,
) -> None:
    world, account_id = await _synced(make_world)
    sku = "BHD-CARPET-3X5-RED"
    async with world.sessionmaker() as session, session.begin():
        listing = await session.scalar(
            select(Listing).where(Listing.account_id == account_id, Listing.sku == sku)
        )
        assert listing is not None and listing.source_changed_at is not None
        # A writer stamped its change a moment after the projection read the row, but before
        # the watermark (its transaction was still open): no wake-up reached the engine.
        late = listing.source_changed_at + timedelta(milliseconds=1)
        await session.execute(
            update(Variant)
            .where(Variant.id == listing.variant_id)
            .values(price_paise=2_300_000, updated_at=late)
        )
        variant_id = listing.variant_id
    assert await _scan(world, account_id) == [[variant_id]]

    async def repriced() -> bool:
        # By hand: ₹23,000 + 5 % = ₹24,150, up to ₹24,159 (ends in 9), above the carpet's MRP of
        # ₹24,000: the marketplace shows the MRP.
        return Decimal((await world.remote())[sku]["price"]) == Decimal(24_000)

    await eventually(repriced, timeout=EVENT_TIMEOUT)
    # Projected from the late row now: the next scan has nothing to do.
    assert await _scan(world, account_id) == []
