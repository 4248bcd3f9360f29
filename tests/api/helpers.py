from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import bearer

PRODUCER = {
    "ref": "weaver-ramesh",
    "kind": "artisan",
    "name_en": "Ramesh Kumar Maurya",
    "name_hi": "रमेश कुमार मौर्य",
    "district": "Bhadohi",
    "craft": "Carpet weaving",
}


def item(sku: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "sku": sku,
        "producer_ref": "weaver-ramesh",
        "title_en": f"Bhadohi hand-knotted carpet {sku}",
        "title_hi": "भदोही हाथ से बुना कालीन",
        "district": "Bhadohi",
        "craft": "Carpet weaving",
        "hsn_code": "5701",
        "gst_rate": 5,
        "mrp": "18500.00",
        "price": "15999.00",
        "stock": 4,
        "images": ["https://cdn.example.org/carpet.jpg"],
    }
    row.update(overrides)
    return row


async def wait_for_batch(
    client: httpx.AsyncClient, key: str, batch_id: int, *, timeout: float = 60.0, rows: str = "all"
) -> dict[str, Any]:
    """Poll GET /v1/batches/{id} the way a user would until it completes."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await client.get(f"/v1/batches/{batch_id}", params={"rows": rows}, headers=bearer(key))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["status"] in ("completed", "failed"):
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"batch {batch_id} still {body['status']}: {body['counts']}")
        await asyncio.sleep(0.05)
