"""B2B terms through the public API: a CSV or XLSX sheet with price tiers shows up in
GET /v1/products exactly as typed, the same row re-sent is "unchanged", a changed tier makes it
"updated", the JSON list form is the same terms as the text form, bad terms reject the row
naming row and field (and nothing of the row is applied), and the variant PATCH keeps them.

Expected values are written by hand from the sheets below.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import openpyxl

from tests.api.helpers import PRODUCER, item, wait_for_batch
from tests.conftest import MakeAgency, MakeKey, bearer

HEADER = [
    "sku", "product_ref", "producer_ref", "title_en", "district", "hsn_code", "gst_rate", "mrp",
    "price", "stock", "images", "b2b_moq", "b2b_moq_unit", "b2b_price_tiers",
    "b2b_supply_per_month", "b2b_lead_times", "b2b_port_of_loading", "b2b_payment_terms",
    "export_hs_code",
]  # fmt: skip
B2B = {
    "b2b_moq": 2,
    "b2b_moq_unit": "sq m",
    "b2b_price_tiers": "2-49:1850|50-199:1700|200+:1550",
    "b2b_supply_per_month": 400,
    "b2b_lead_times": "1-50:30|51-200:45|201+:60",
    "b2b_port_of_loading": "Nhava Sheva (Mumbai)",
    "b2b_payment_terms": "T/T|L/C",
    "export_hs_code": "57011010",
}
# What GET /v1/products shows for B2B, worked out by hand: ₹1,850 = 185000 paise, and so on.
SHOWN = {
    "moq": 2,
    "moq_unit": "square_metre",
    "price_tiers": [
        {"min_quantity": 2, "max_quantity": 49, "price": "1850.00", "price_paise": 185000},
        {"min_quantity": 50, "max_quantity": 199, "price": "1700.00", "price_paise": 170000},
        {"min_quantity": 200, "max_quantity": None, "price": "1550.00", "price_paise": 155000},
    ],
    "supply_per_month": 400,
    "lead_times": [
        {"max_quantity": 50, "days": 30},
        {"max_quantity": 200, "days": 45},
        {"max_quantity": None, "days": 60},
    ],
    "port_of_loading": "Nhava Sheva (Mumbai)",
    "payment_terms": ["TT", "LC"],
    "export_hs_code": "57011010",
}


def _sheet_rows(tiers: str = B2B["b2b_price_tiers"]) -> list[list[Any]]:
    base = ["BHD-RUG", "weaver-ramesh", "Bhadohi hand-knotted rug", "Bhadohi", 570110, 5]
    b2b = [*B2B.values()]
    b2b[2] = tiers
    return [
        ["BHD-RUG-RED", *base, 24000, 21500, 3, "https://cdn.example.org/r.jpg", *b2b],
        ["BHD-RUG-BLUE", *base, 24000, 21500, 2, "https://cdn.example.org/b.jpg", *b2b],
    ]


def _csv(rows: list[list[Any]]) -> bytes:
    lines = [",".join(HEADER)] + [",".join(f'"{c}"' for c in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _xlsx(rows: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _key(client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey) -> str:
    await make_agency("up-odop")
    key = await make_key("agency", "up-odop")
    r = await client.post("/v1/producers", json=PRODUCER, headers=bearer(key))
    assert r.status_code == 201, r.text
    return key


async def _upload(
    client: httpx.AsyncClient, key: str, name: str, content: bytes, ctype: str
) -> dict[str, Any]:
    r = await client.post(
        "/v1/batches", files={"file": (name, content, ctype)}, headers=bearer(key)
    )
    assert r.status_code == 202, r.text
    return await wait_for_batch(client, key, r.json()["id"])


async def _post(client: httpx.AsyncClient, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    r = await client.post("/v1/batches", json={"items": items}, headers=bearer(key))
    assert r.status_code == 202, r.text
    return await wait_for_batch(client, key, r.json()["id"])


def _statuses(batch: dict[str, Any]) -> list[str]:
    return [row["status"] for row in batch["rows"]]


async def _products(client: httpx.AsyncClient, key: str) -> list[dict[str, Any]]:
    r = await client.get("/v1/products", headers=bearer(key))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


class TestSheets:
    async def test_a_csv_sheet_round_trips_and_a_changed_tier_updates_the_rows(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(client, make_agency, make_key)
        first = await _upload(client, key, "rugs.csv", _csv(_sheet_rows()), "text/csv")
        assert _statuses(first) == ["created", "created"], first["rows"]
        [product] = await _products(client, key)
        assert product["b2b"] == SHOWN
        product_id = product["id"]
        one = await client.get(f"/v1/products/{product_id}", headers=bearer(key))
        assert one.json()["b2b"] == SHOWN

        again = await _upload(client, key, "rugs.csv", _csv(_sheet_rows()), "text/csv")
        assert _statuses(again) == ["unchanged", "unchanged"]

        cheaper = "2-49:1850|50-199:1650|200+:1550"
        changed = await _upload(client, key, "rugs.csv", _csv(_sheet_rows(cheaper)), "text/csv")
        assert _statuses(changed) == ["updated", "updated"]
        [product] = await _products(client, key)
        assert product["b2b"]["price_tiers"][1] == {
            "min_quantity": 50,
            "max_quantity": 199,
            "price": "1650.00",
            "price_paise": 165000,
        }

    async def test_an_xlsx_sheet_with_number_cells_round_trips(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(client, make_agency, make_key)
        rows = _sheet_rows()
        for row in rows:
            row[-1] = 57011010  # a number cell, as Excel keeps a typed code
        batch = await _upload(client, key, "rugs.xlsx", _xlsx(rows), XLSX_TYPE)
        assert batch["source"] == "xlsx"
        assert _statuses(batch) == ["created", "created"], batch["rows"]
        [product] = await _products(client, key)
        assert product["b2b"] == SHOWN
        # The same terms from a CSV are the same content.
        csv = await _upload(client, key, "rugs.csv", _csv(_sheet_rows()), "text/csv")
        assert _statuses(csv) == ["unchanged", "unchanged"]

    async def test_a_bad_tier_rejects_its_row_naming_row_and_field(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(client, make_agency, make_key)
        rows = _sheet_rows()
        rows[1][13] = "2-49:1850|40-199:1700"  # row 3 of the sheet: tiers overlap
        batch = await _upload(client, key, "rugs.csv", _csv(rows), "text/csv")
        assert _statuses(batch) == ["created", "rejected"]
        assert batch["rows"][1]["errors"] == [
            {
                "row": 3,
                "field": "b2b_price_tiers",
                "message": "tier 2 (40-199) overlaps tier 1 (2-49); start it at 50",
            }
        ]
        # Nothing of row 3 was applied: its SKU does not exist.
        [product] = await _products(client, key)
        assert [v["sku"] for v in product["variants"]] == ["BHD-RUG-RED"]


class TestJson:
    async def test_the_list_form_is_the_same_terms_as_the_text_form(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(client, make_agency, make_key)
        text = item("BHD-RUG-RED", product_ref="BHD-RUG", hsn_code="570110", **B2B)
        assert _statuses(await _post(client, key, [text])) == ["created"]
        listed = {
            **text,
            "b2b_moq_unit": "square_metre",
            "b2b_price_tiers": [
                {"min_quantity": 2, "max_quantity": 49, "price": 1850},
                {"min_quantity": 50, "max_quantity": 199, "price": "1700.00"},
                {"min_quantity": 200, "price": "1550"},
            ],
            "b2b_lead_times": [
                {"max_quantity": 50, "days": 30},
                {"max_quantity": 200, "days": 45},
                {"days": 60},
            ],
            "b2b_payment_terms": ["LC", "TT"],
        }
        assert _statuses(await _post(client, key, [listed])) == ["unchanged"]
        [product] = await _products(client, key)
        assert product["b2b"] == SHOWN

    async def test_a_rising_price_is_a_warning_and_a_missing_moq_a_rejection(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(client, make_agency, make_key)
        rising = item(
            "RUG-A", hsn_code="570110", **{**B2B, "b2b_price_tiers": "2-49:1850|50+:1900"}
        )
        no_moq = item("RUG-B", hsn_code="570110", **{**B2B, "b2b_moq": None})
        batch = await _post(client, key, [rising, no_moq])
        first, second = batch["rows"]
        assert first["status"] == "created" and first["errors"] == []
        assert first["warnings"] == [
            {
                "row": 1,
                "field": "b2b_price_tiers",
                "message": "tier 2 (50+) costs ₹1,900.00 a unit, more than tier 1 (2-49) at "
                "₹1,850.00: a larger order usually costs less per unit; check the prices",
            }
        ]
        assert second["status"] == "rejected"
        assert [(e["row"], e["field"]) for e in second["errors"]] == [(2, "b2b_moq")]

    async def test_rows_of_one_product_that_disagree_on_tiers_are_warned(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(client, make_agency, make_key)
        common = {"product_ref": "BHD-RUG", "hsn_code": "570110", "title_en": "Bhadohi rug"}
        rows = [
            item("BHD-RUG-RED", **common, **B2B),
            item("BHD-RUG-BLUE", **common, **{**B2B, "b2b_price_tiers": "2-99:1800|100+:1500"}),
        ]
        batch = await _post(client, key, rows)
        assert _statuses(batch) == ["created", "created"]
        [warning] = batch["rows"][1]["warnings"]
        assert warning["field"] == "b2b_price_tiers"
        assert "differs from row 1 of product 'BHD-RUG'" in warning["message"]
        assert "'2-49:1850.00|50-199:1700.00|200+:1550.00' there" in warning["message"]
        # The later row wins, as for every product column.
        [product] = await _products(client, key)
        assert [t["price"] for t in product["b2b"]["price_tiers"]] == ["1800.00", "1500.00"]

    async def test_a_product_without_terms_shows_none(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(client, make_agency, make_key)
        assert _statuses(await _post(client, key, [item("KURTA-1")])) == ["created"]
        [product] = await _products(client, key)
        assert product["b2b"] is None


class TestPatch:
    async def test_a_price_patch_keeps_the_terms_and_a_bad_tier_is_a_problem(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(client, make_agency, make_key)
        await _post(client, key, [item("BHD-RUG-RED", hsn_code="570110", **B2B)])
        r = await client.patch(
            "/v1/variants/BHD-RUG-RED", json={"price": "14999"}, headers=bearer(key)
        )
        assert r.status_code == 200, r.text
        [product] = await _products(client, key)
        assert product["b2b"] == SHOWN

        r = await client.patch(
            "/v1/variants/BHD-RUG-RED",
            json={"b2b_price_tiers": "2-49:1850|60+:1700", "price": "13999"},
            headers=bearer(key),
        )
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        [error] = r.json()["errors"]
        assert error["field"] == "b2b_price_tiers"
        assert "orders of 50-59 units have no price" in error["message"]
        [product] = await _products(client, key)
        assert product["variants"][0]["price"] == "14999.00"  # nothing of it applied

        r = await client.patch(
            "/v1/variants/BHD-RUG-RED", json={"b2b_moq": 5, "b2b_price_tiers": "5+:1700"},
            headers=bearer(key),
        )  # fmt: skip
        assert r.status_code == 200, r.text
        [product] = await _products(client, key)
        assert (product["b2b"]["moq"], product["b2b"]["price_tiers"]) == (
            5,
            [{"min_quantity": 5, "max_quantity": None, "price": "1700.00", "price_paise": 170000}],
        )


class TestDocumentedExample:
    async def test_the_openapi_example_batch_is_accepted_with_its_terms(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        spec = (await client.get("/openapi.json")).json()
        body = spec["paths"]["/v1/batches"]["post"]["requestBody"]["content"]["application/json"]
        [example] = body["schema"]["examples"]
        batch = await _post_body(client, key, example)
        assert _statuses(batch) == ["created", "created"], batch["rows"]
        terms = {p["ref"]: p["b2b"] for p in await _products(client, key)}
        # By hand from the example: ₹12,500 a piece for 2-49 carpets; ₹3,600 for 10-49 rugs.
        assert terms["BHD-CARPET-3X5"]["price_tiers"][0]["price_paise"] == 1_250_000
        assert terms["BHD-CARPET-3X5"]["export_hs_code"] == "57011010"
        assert terms["BHD-GABBEH-2X3"]["moq_unit"] == "piece"
        assert terms["BHD-GABBEH-2X3"]["price_tiers"][0]["price_paise"] == 360_000


async def _post_body(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post("/v1/batches", json=body, headers=bearer(key))
    assert r.status_code == 202, r.text
    return await wait_for_batch(client, key, r.json()["id"])
