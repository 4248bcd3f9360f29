"""The console's endpoints: who am I, listing counts, product search, a batch's errors as CSV,
the sheet template (uploaded back as is), listing retry conflicts."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import openpyxl

from tests.api.helpers import PRODUCER, item, wait_for_batch
from tests.conftest import MakeAgency, MakeKey, bearer


async def _shop(client: httpx.AsyncClient, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    r = await client.post(
        "/v1/batches", json={"producers": [PRODUCER], "items": items}, headers=bearer(key)
    )
    assert r.status_code == 202, r.text
    return await wait_for_batch(client, key, r.json()["id"])


async def test_me_names_the_key_and_its_agencies_never_the_secret(
    client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
) -> None:
    up = await make_agency("up-odop", "UP ODOP")
    await make_agency("khadi", "Khadi Board")
    agency = await make_key("agency", "up-odop")
    partner = await make_key("partner", None, ["up-odop", "khadi"])
    r = await client.get("/v1/me", headers=bearer(agency))
    assert r.status_code == 200
    body = r.json()
    assert body == {
        "role": "agency",
        "name": "test agency",
        "agency": {"id": up.id, "slug": "up-odop", "name": "UP ODOP"},
        "granted_agencies": [],
    }
    assert agency not in r.text
    body = (await client.get("/v1/me", headers=bearer(partner))).json()
    assert body["role"] == "partner" and body["agency"] is None
    assert [a["slug"] for a in body["granted_agencies"]] == ["khadi", "up-odop"]
    assert (await client.get("/v1/me")).status_code == 401
    # partners are refused the console's other reads
    for path in ("/v1/listings/counts", "/v1/sync/status"):
        assert (await client.get(path, headers=bearer(partner))).status_code == 403


async def test_search_matches_sku_english_and_hindi_titles(
    client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
) -> None:
    await make_agency("up-odop")
    key = await make_key("agency", "up-odop")
    batch = await _shop(
        client,
        key,
        [
            item("BHD-RUG-1", title_en="Bhadohi Carpet, red", title_hi="भदोही कालीन लाल"),
            item("MRT-POT-1", title_en="Khurja blue pottery vase", title_hi="खुर्जा फूलदान"),
        ],
    )
    assert batch["counts"]["rejected"] == 0, batch

    async def refs(q: str, **extra: Any) -> list[str]:
        r = await client.get("/v1/products", params={"q": q, **extra}, headers=bearer(key))
        assert r.status_code == 200, r.text
        return sorted(v["sku"] for p in r.json()["items"] for v in p["variants"])

    assert await refs("CARPET") == ["BHD-RUG-1"]  # title, any case
    assert await refs("mrt-pot") == ["MRT-POT-1"]  # a SKU, any case
    assert await refs("कालीन") == ["BHD-RUG-1"]  # Hindi
    assert await refs("फूलदान") == ["MRT-POT-1"]
    assert await refs("100%") == []  # % is a character, not a wildcard
    assert await refs("1", craft="Carpet weaving") == ["BHD-RUG-1", "MRT-POT-1"]
    assert await refs("vase", district="UP-agra") == []
    r = await client.get("/v1/products", params={"q": "x" * 121}, headers=bearer(key))
    assert r.status_code == 422


async def test_errors_csv_lists_each_problem_of_the_rejected_rows(
    client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
) -> None:
    await make_agency("up-odop")
    await make_agency("khadi")
    key = await make_key("agency", "up-odop")
    other = await make_key("agency", "khadi")
    batch = await _shop(
        client,
        key,
        [
            item("OK-1"),
            item("BAD-1", title_hi="Kaleen", stock=-1),
            item("BAD-2", gst_rate=7),
        ],
    )
    assert batch["counts"]["rejected"] == 2
    r = await client.get(f"/v1/batches/{batch['id']}/errors.csv", headers=bearer(key))
    assert r.status_code == 200
    assert r.content.startswith(b"\xef\xbb\xbf")
    assert r.headers["content-disposition"].endswith(f'filename="batch-{batch["id"]}-errors.csv"')
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert lines[0] == ["row", "sku", "field", "message"]
    assert [(row, sku, field) for row, sku, field, _ in lines[1:]] == [
        ("2", "BAD-1", "title_hi"),
        ("2", "BAD-1", "stock"),
        ("3", "BAD-2", "gst_rate"),
    ]
    assert "Devanagari" in lines[1][3]
    r = await client.get(f"/v1/batches/{batch['id']}/errors.csv", headers=bearer(other))
    assert r.status_code == 404


async def test_the_template_imports_as_it_is_and_has_notes_and_drop_downs(
    client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
) -> None:
    await make_agency("up-odop")
    key = await make_key("agency", "up-odop")
    # the example row's producer, registered as an agency would
    await _shop(client, key, [])
    r = await client.get("/v1/batches/template.xlsx", headers=bearer(key))
    assert r.status_code == 200, r.text
    content = r.content
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["sku", "product_ref", "producer_ref", "title_en"]
    assert {"mrp", "price", "stock", "images", "attributes", "b2b_moq"} <= set(header)
    for cell in sheet[1]:
        assert cell.comment is not None and " / " in cell.comment.text, cell.value
    assert "शीर्षक" in sheet.cell(1, header.index("title_en") + 1).comment.text
    rules = {
        str(v.sqref).split(":")[0][:-1]: v.formula1 for v in sheet.data_validations.dataValidation
    }
    gst_col = openpyxl.utils.get_column_letter(header.index("gst_rate") + 1)
    district_col = openpyxl.utils.get_column_letter(header.index("district") + 1)
    assert set(rules) == {gst_col, district_col}
    lists = book["lists"]
    assert lists.sheet_state == "hidden"
    # the rates in force since 22 September 2025 (gst.toml), and Bhadohi among the districts
    assert [c.value for c in lists["A"] if c.value is not None] == [0, 0.25, 3, 5, 18, 40]
    assert "UP-bhadohi" in [c.value for c in lists["B"]]
    files = {"file": ("template.xlsx", content, "application/octet-stream")}
    r = await client.post("/v1/batches?dry_run=true", files=files, headers=bearer(key))
    assert r.status_code == 200, r.text
    assert r.json()["counts"]["created"] == 1 and r.json()["counts"]["rejected"] == 0
    r = await client.post("/v1/batches", files=files, headers=bearer(key))
    assert r.status_code == 202, r.text
    done = await wait_for_batch(client, key, r.json()["id"])
    assert done["counts"]["created"] == 1 and done["counts"]["rejected"] == 0, done
