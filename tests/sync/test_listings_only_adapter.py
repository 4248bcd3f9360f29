"""An adapter that cannot push offers alone (no PUSH_OFFERS) still gets price and stock changes:
the engine sends them as full listings, and confirms both the content and the offer."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

import pytest
from pydantic import BaseModel

from odop_sync.adapter_sdk import (
    Adapter,
    Capability,
    ItemResult,
    ItemStatus,
    ListingPayload,
    OperationLimit,
)
from tests.conftest import bearer
from tests.sync.conftest import EVENT_TIMEOUT, MakeWorld, assert_no_schedule_fires, eventually


class _Config(BaseModel):
    seller: str = "listings-only"


class ListingsOnlyAdapter(Adapter):
    """Takes whole listings only, like a marketplace with no price/stock call of its own."""

    slug = "listings-only"
    display_name = "Listings only"
    capabilities = frozenset({Capability.PUSH_LISTINGS})
    config_model = _Config
    limits: ClassVar[dict[str, OperationLimit]] = {
        "push_listings": OperationLimit(rate=1000, burst=1000, max_batch_size=10)
    }
    received: ClassVar[list[ListingPayload]] = []

    async def check_connection(self) -> None:
        return None

    async def push_listings(self, items: Sequence[ListingPayload]) -> list[ItemResult]:
        type(self).received.extend(items)
        return [ItemResult(sku=item.sku, status=ItemStatus.ACCEPTED) for item in items]


@pytest.mark.schedules_hours_apart
async def test_a_price_change_goes_as_a_full_listing(make_world: MakeWorld) -> None:
    ListingsOnlyAdapter.received = []
    world = await make_world(items=3)
    assert_no_schedule_fires(world.app)
    world.app.state.adapters[ListingsOnlyAdapter.slug] = ListingsOnlyAdapter
    r = await world.client.post(
        "/v1/accounts",
        json={"adapter": "listings-only", "name": "Listings only", "credentials": {}},
        headers=bearer(world.key),
    )
    assert r.status_code == 201, r.text
    account_id = int(r.json()["id"])
    assert (await world.sync_now(account_id))["status"] == "done"
    first = {item.sku for item in ListingsOnlyAdapter.received}
    assert len(first) == 3
    sku = sorted(first)[0]

    r = await world.client.patch(
        f"/v1/variants/{sku}", json={"price": "999.50"}, headers=bearer(world.key)
    )
    assert r.status_code == 200, r.text

    async def arrived() -> bool:
        return any(
            item.sku == sku and item.price.to_decimal() == Decimal("999.50")
            for item in ListingsOnlyAdapter.received
        )

    await eventually(arrived, timeout=EVENT_TIMEOUT)

    async def confirmed() -> bool:
        rows = {row.sku: row for row in await world.listings(account_id)}
        row = rows[sku]
        return (
            row.desired_price_paise == 99950
            and row.confirmed_offer_hash == row.desired_offer_hash
            and row.confirmed_content_hash == row.desired_content_hash
            and row.dirty_since is None
        )

    await eventually(confirmed, timeout=EVENT_TIMEOUT)
