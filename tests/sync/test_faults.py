"""Under throttling, server errors and timeouts the sandbox still converges on the catalog:
no SKU listed twice, no update lost, nothing left dirty."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from odop_sync.adapter_sdk.sandbox import FaultKind
from odop_sync.models import ListingStatus
from tests.conftest import bearer
from tests.sync.conftest import MARKETPLACES, MakeWorld, World, eventually


async def _converged(world: World, account_id: int) -> bool:
    """Every listable variant live at its expected price and stock; on Flipkart the variants
    without an FSN wait for their mapping."""
    listings = await world.listings(account_id)
    expected = await world.expected(account_id)
    if not listings or any(
        row.status
        is not (ListingStatus.LIVE if row.sku in expected else ListingStatus.NEEDS_MAPPING)
        for row in listings
    ):
        return False
    remote = await world.remote()
    return set(remote) == set(expected) and all(
        Decimal(remote[sku]["price"]) == price and remote[sku]["quantity"] == qty
        for sku, (price, qty) in expected.items()
    )


class TestFaults:
    @pytest.mark.parametrize("marketplace", MARKETPLACES)
    async def test_converges_through_429s_5xx_and_timeouts(
        self, make_world: MakeWorld, marketplace: str
    ) -> None:
        world = await make_world(seed=11, marketplace=marketplace)
        faults = world.sandbox.faults
        # Checked in order per request: 20 % throttled, then 10 % of all answer 5xx, then 5 %
        # of all never answer (the client times out).
        throttle = faults.fail(429, times=None, probability=0.20)
        errors = faults.fail(500, times=None, probability=0.10 / 0.80)
        hangs = faults.inject(FaultKind.HANG, delay=1.0, times=None, probability=0.05 / 0.70)
        account_id = await world.create_account(markup_percent="0", rounding="none")
        await world.sync_now(account_id)
        # Changes keep arriving while the faults go on: every one must land, the last one wins.
        skus = sorted(await world.expected(account_id))[:20]
        for round_ in range(3):
            for n, sku in enumerate(skus):
                r = await world.client.patch(
                    f"/v1/variants/{sku}",
                    json={"stock": 20 + round_ * 10 + n, "price": f"{100 + round_ * 7 + n}.50"},
                    headers=bearer(world.key),
                )
                assert r.status_code == 200, r.text
                await asyncio.sleep(0.03)  # let some go out before the next change
        await eventually(lambda: _converged(world, account_id), timeout=90.0, interval=0.2)
        remote = await world.remote()
        assert remote[skus[0]]["quantity"] == 20 + 20 + 0 - 1  # last round, buffer 1
        last = Decimal(114) if world.market.whole_rupees else Decimal("114.50")
        assert Decimal(remote[skus[0]]["price"]) == last
        # The faults really happened, and every one of them was survived.
        assert throttle.fired >= 3 and errors.fired >= 2 and hangs.fired >= 1
        calls = sum(world.sandbox.state.calls.values())
        assert calls > 60
        listings = await world.listings(account_id)
        assert len(listings) == 79
        assert set(remote) == set(await world.expected(account_id))
