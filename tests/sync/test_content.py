"""What a listing says about where it was made: the district's own state, from the district data
(config/districts.toml lists Jaipur under Rajasthan), never a state written into the code."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import wait_for_batch
from tests.conftest import bearer
from tests.sync.conftest import MakeWorld

BLUE_POTTERY = {
    "sku": "JPR-BLUEPOT-TEST-1",
    "product_ref": "JPR-BLUEPOT-TEST",
    "producer_ref": "exp-jpr-amer",
    "title_en": "Jaipur blue pottery plate, 10 inch",
    "description_en": "Quartz powder and glass, hand-painted in cobalt blue.",
    "district": "Jaipur",
    "craft": "Blue pottery",
    "hsn_code": "691390",
    "gst_rate": 5,
    "mrp": "1800.00",
    "price": "1450.00",
    "stock": 5,
    "weight_g": 700,
    "length_cm": 30,
    "width_cm": 30,
    "height_cm": 6,
    "material": "Quartz-based blue pottery",
    "color": "Cobalt blue",
    "images": ["https://cdn.example.org/blue-pottery.jpg"],
}


def _bullets(attributes: dict[str, Any]) -> list[str]:
    return [b["value"] for b in attributes.get("bullet_point", [])]


class TestWhereItWasMade:
    async def test_a_jaipur_product_goes_out_as_made_in_rajasthan(
        self, make_world: MakeWorld
    ) -> None:
        world = await make_world(items=0)  # the demo producers (exp-jpr-amer is in Jaipur) only
        r = await world.client.post(
            "/v1/batches", json={"items": [BLUE_POTTERY]}, headers=bearer(world.key)
        )
        assert r.status_code == 202, r.text
        batch = await wait_for_batch(world.client, world.key, r.json()["id"])
        assert batch["counts"]["created"] == 1, batch["rows"][0]["errors"]
        account_id = await world.create_account()
        assert (await world.sync_now(account_id))["status"] == "done"

        stored = world.sandbox.state.table(world.market.seller, "listings")
        bullets = _bullets(stored["JPR-BLUEPOT-TEST-1"]["attributes"])
        assert "Blue pottery, handmade in Jaipur, Rajasthan" in bullets
        assert not any("Uttar Pradesh" in b for b in bullets), bullets
