"""A listing pushed to Amazon shows its ASIN (`remote_id` on GET /v1/listings): the demo catalog
goes out in one JSON_LISTINGS_FEED, whose processing report lists each item's summaries with
the ASIN for the marketplace (listings-feed-schema-v2.json, header.report.includedData)."""

from __future__ import annotations

from typing import Any

from tests.conftest import bearer
from tests.sync.conftest import MakeWorld


async def test_listings_pushed_in_a_feed_show_their_asin(make_world: MakeWorld) -> None:
    world = await make_world()  # 79 variants: over the bulk threshold, so a feed
    account_id = await world.create_account()
    run = await world.sync_now(account_id)
    assert run["status"] == "done", run
    assert world.sandbox.call_count("createFeed") == 1
    r = await world.client.get(
        "/v1/listings", params={"account_id": account_id, "limit": 200}, headers=bearer(world.key)
    )
    assert r.status_code == 200, r.text
    listings: list[dict[str, Any]] = r.json()["items"]
    remote = await world.remote()  # what Amazon holds: each SKU with the ASIN it was given
    assert len(listings) == len(remote) == 79
    assert {x["sku"]: x["remote_id"] for x in listings} == {
        sku: row["asin"] for sku, row in remote.items()
    }
