"""The remote reconcile reads confirmed listings back a page a pass, so a catalog change made while
it runs goes out between two pages instead of after the last one (at Amazon's documented rate a
reconcile of a large catalog takes minutes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from odop_sync.models import MarketplaceAccount
from tests.conftest import bearer
from tests.sync.conftest import MakeWorld

SKU = "BHD-CARPET-3X5-RED"


async def test_a_price_change_goes_out_while_the_reconcile_reads_pages(
    make_world: MakeWorld,
) -> None:
    world = await make_world()
    engine = world.app.state.sync
    # 79 live listings, 5 a page: 16 pages.
    engine.settings = engine.settings.model_copy(update={"window_items": 5})
    account_id = await world.create_account()
    run = await world.sync_now(account_id)
    assert run["status"] == "done", run
    async with world.sessionmaker() as session:
        account = await session.get(MarketplaceAccount, account_id)
        assert account is not None
    adapter = await engine.adapter_for(account)
    real = adapter.fetch_listing_states
    pages: list[bool] = []  # per page read back: did the sandbox hold the new price already?
    new_price: list[Decimal] = []

    async def remote_price() -> Decimal:
        return Decimal((await world.remote())[SKU]["price"])

    async def reading(skus: list[str]) -> Any:
        if len(pages) == 1:  # the second page: the operator changes a price meanwhile
            r = await world.client.patch(
                f"/v1/variants/{SKU}", json={"price": "19999.00"}, headers=bearer(world.key)
            )
            assert r.status_code == 200, r.text
            # By hand: ₹19,999 + 5 % = ₹20,998.95 → ₹20,999, which ends in 9 (MRP ₹24,000).
            new_price.append(Decimal(20_999))
            assert await remote_price() != new_price[0]
        pages.append(bool(new_price) and await remote_price() == new_price[0])
        return await real(skus)

    adapter.fetch_listing_states = reading  # type: ignore[method-assign]
    engine.wake(account_id, full=True)
    await engine.wait_idle(account_id)
    assert len(pages) == 16, pages
    # The new price was on the marketplace before the reconcile read its last page.
    assert pages[-1], pages
    assert await remote_price() == new_price[0]
