"""Rows of one product that disagree on a product column: the later row still wins (a product has
one title), but the batch result says so on that row, naming the column and the row it replaced.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import PRODUCER, item, wait_for_batch
from tests.conftest import MakeAgency, MakeKey, bearer

TITLE = "Bhadohi hand-knotted wool carpet"


def _rows() -> list[dict[str, Any]]:
    """Rows 1-4 of product BHD-CARPET; districts.toml lists "Sant Ravidas Nagar" as another
    name of Bhadohi, so row 2 names the same district. Row 3 carries an old title, row 4
    another craft and no Hindi title."""
    common = {"product_ref": "BHD-CARPET", "title_en": TITLE}
    return [
        item("BHD-CARPET-RED", **common, color="red"),
        item("BHD-CARPET-BLUE", **common, color="blue", district="Sant Ravidas Nagar"),
        item("BHD-CARPET-GREEN", **{**common, "title_en": "Bhadohi carpet (old title)"}),
        item("BHD-CARPET-IVORY", **common, craft="Dari weaving", title_hi=None),
    ]


async def _key(make_agency: MakeAgency, make_key: MakeKey) -> str:
    await make_agency("up-odop")
    return await make_key("agency", "up-odop")


def _warnings(body: dict[str, Any]) -> dict[int, list[tuple[str, str]]]:
    return {
        row["row"]: [(w["field"], w["message"]) for w in row["warnings"]]
        for row in body["rows"]
        if row["warnings"]
    }


class TestProductColumnsThatDisagree:
    async def test_the_later_row_wins_and_is_warned_naming_field_and_row(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(make_agency, make_key)
        r = await client.post(
            "/v1/batches", json={"producers": [PRODUCER], "items": _rows()}, headers=bearer(key)
        )
        assert r.status_code == 202, r.text
        batch = await wait_for_batch(client, key, r.json()["id"])
        assert batch["counts"]["rejected"] == 0, batch["rows"]
        warned = _warnings(batch)
        assert set(warned) == {3, 4}
        [(field, message)] = warned[3]
        assert field == "title_en"
        assert "row 2" in message and "Bhadohi carpet (old title)" in message
        fields = dict(warned[4])
        # Row 4 differs from row 3 in its title (row 3's old one), its craft and its Hindi title.
        assert set(fields) == {"title_en", "craft", "title_hi"}
        assert all("row 3" in m for m in fields.values())
        assert "'Carpet weaving' there" in fields["craft"]
        # And the later row did win: the product has row 4's craft.
        products = (await client.get("/v1/products", headers=bearer(key))).json()["items"]
        assert [(p["ref"], p["craft"], p["title_en"]) for p in products] == [
            ("BHD-CARPET", "Dari weaving", TITLE)
        ]

    async def test_a_dry_run_shows_the_same_warnings(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(make_agency, make_key)
        r = await client.post(
            "/v1/batches",
            params={"dry_run": "true"},
            json={"producers": [PRODUCER], "items": _rows()},
            headers=bearer(key),
        )
        assert r.status_code == 200, r.text
        assert {n: [f for f, _ in w] for n, w in _warnings(r.json()).items()} == {
            3: ["title_en"],
            4: ["title_en", "title_hi", "craft"],
        }

    async def test_rows_of_different_products_are_not_compared(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(make_agency, make_key)
        items = [item("CARPET-A", title_en="One carpet"), item("CARPET-B", title_en="Another")]
        r = await client.post(
            "/v1/batches", json={"producers": [PRODUCER], "items": items}, headers=bearer(key)
        )
        batch = await wait_for_batch(client, key, r.json()["id"])
        assert batch["counts"]["created"] == 2
        assert _warnings(batch) == {}

    async def test_the_openapi_schema_documents_row_warnings(
        self, client: httpx.AsyncClient
    ) -> None:
        schema = (await client.get("/openapi.json")).json()
        row = schema["components"]["schemas"]["RowResult"]["properties"]
        assert row["warnings"]["items"] == {"$ref": "#/components/schemas/FieldIssue"}
