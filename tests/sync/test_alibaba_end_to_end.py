"""The demo catalog on Alibaba.com: the products with B2B terms go out with their price tiers in
USD at the recorded rate, the others stay off it with the reason shown (and go to Amazon as
before), and stock at 0 takes a product offline there and back online when restocked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from odop_sync.demo.loader import load_demo_catalog
from odop_sync.models import ListingStatus
from tests.conftest import MakeKey, bearer
from tests.sync.alibaba_b2b import RATE, RED_CARPET, b2b_items, set_usd_rate, tiers
from tests.sync.conftest import (
    EVENT_TIMEOUT,
    MakeWorld,
    assert_no_schedule_fires,
    eventually,
)


def wholesale_rows() -> dict[str, dict[str, Any]]:
    """The demo rows with B2B terms, by SKU, as the catalog file states them."""
    items = load_demo_catalog("http://127.0.0.1:8000")["items"]
    return {item["sku"]: item for item in b2b_items(items)}


def tiers_of(row: dict[str, Any]) -> list[tuple[int, str]]:
    return [(int(t["start_quantity"]), str(t["price"])) for t in row["tiers"]]


class TestAlibabaEndToEnd:
    def test_the_conversion_by_hand(self) -> None:
        # ₹11,800 / 84.12 = 140.2758 -> USD 140.28; ₹9,400 / 84.12 = 111.7451 -> USD 111.75.
        carpet = wholesale_rows()["BHD-CARPET-3X5-RED"]
        assert tiers(carpet["b2b_price_tiers"]) == RED_CARPET

    @pytest.mark.schedules_hours_apart
    async def test_b2b_products_go_out_in_usd_once_a_rate_is_set_and_the_rest_stay_off(
        self, make_world: MakeWorld, make_key: MakeKey
    ) -> None:
        world = await make_world(marketplace="alibaba")
        assert_no_schedule_fires(world.app)
        account_id = await world.create_account()
        amazon_id = await world.create_account("amazon")
        # No USD rate yet: nothing goes to Alibaba.com, and every listing says why.
        assert (await world.sync_now(account_id))["status"] == "done"
        assert await world.remote() == {}
        held = await world.listings(account_id)
        assert {row.status for row in held} == {ListingStatus.NEEDS_MAPPING}

        await set_usd_rate(
            world.client, await make_key("admin")
        )  # nobody touches a variant after this
        wanted = wholesale_rows()
        assert len(wanted) == 13

        async def published() -> bool:
            # On the sandbox, and the marketplace's answers saved on the listings.
            live = {
                row.sku
                for row in await world.listings(account_id)
                if row.status is ListingStatus.LIVE
            }
            return live == set(wanted) and set(await world.remote()) == set(wanted)

        await eventually(published, timeout=EVENT_TIMEOUT)
        remote = await world.remote()
        for sku, item in wanted.items():
            row = remote[sku]
            assert tiers_of(row) == tiers(item["b2b_price_tiers"]), sku
            on_sale = max(0, int(item["stock"]) - 1)  # the account's buffer of 1
            assert row["quantity"] == on_sale, sku
            assert row["display"] == ("Y" if on_sale else "N"), sku

        r = await world.client.get(
            f"/v1/listings?account_id={account_id}&limit=100", headers=bearer(world.key)
        )
        assert r.status_code == 200, r.text
        listings = {row["sku"]: row for row in r.json()["items"]}
        for sku, row in listings.items():
            if sku in wanted:
                assert row["status"] == "live", (sku, row)
                fx = row["last_pushed_fx"]
                assert (Decimal(fx["rate"]), fx["source"]) == (RATE, "RBI"), sku
            else:
                assert row["status"] == "needs_mapping", (sku, row)
                assert "not offered on Alibaba.com" in row["latest_issue"]["message"], sku
        # The same batch's other products went to Amazon as before: all 79.
        assert (await world.sync_now(amazon_id))["status"] == "done"
        assert len(await world.remote("amazon")) == 79

    @pytest.mark.schedules_hours_apart
    async def test_stock_at_zero_takes_a_product_offline_and_a_restock_brings_it_back(
        self, make_world: MakeWorld, make_key: MakeKey
    ) -> None:
        world = await make_world(marketplace="alibaba")
        assert_no_schedule_fires(world.app)
        await set_usd_rate(world.client, await make_key("admin"))
        account_id = await world.create_account()
        assert (await world.sync_now(account_id))["status"] == "done"
        sku = "MBD-PUJA-THALI-7PC"  # 30 on hand
        assert (await world.remote())[sku]["display"] == "Y"

        async def shows(display: str, quantity: int) -> bool:
            row = (await world.remote())[sku]
            return row["display"] == display and row["quantity"] == quantity

        r = await world.client.patch(
            f"/v1/variants/{sku}", json={"stock": 0}, headers=bearer(world.key)
        )
        assert r.status_code == 200, r.text
        await eventually(lambda: shows("N", 0), timeout=EVENT_TIMEOUT)
        r = await world.client.patch(
            f"/v1/variants/{sku}", json={"stock": 40}, headers=bearer(world.key)
        )
        assert r.status_code == 200, r.text
        await eventually(lambda: shows("Y", 39), timeout=EVENT_TIMEOUT)
        # Still the one product it always was.
        assert list(await world.remote()).count(sku) == 1
