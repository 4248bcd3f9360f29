from __future__ import annotations

import asyncio
import io
import re
import zipfile
from typing import Any

import httpx
import openpyxl

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


def blank_rows_xlsx(blank_rows: int, claimed_rows: int = 1_048_576) -> bytes:
    """A workbook with a header row, then `blank_rows` rows without a value (as Excel writes
    rows that were only formatted), and an empty last row `claimed_rows`, which its dimension
    claims too.

    openpyxl's write-only mode writes the header; the blank rows are then written into its sheet
    XML as one string (appending them one by one through openpyxl takes seconds)."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["sku", "producer_ref", "title_en", "mrp", "price", "stock"])
    sheet.append([])
    out = io.BytesIO()
    workbook.save(out)
    blank = "".join(f'<row r="{n}"><c r="A{n}" s="0"/></row>' for n in range(2, blank_rows + 2))
    # The last row claimed, empty too: readers make up the rows between as empty ones.
    blank += f'<row r="{claimed_rows}"><c r="A{claimed_rows}" s="0"/></row>'
    rebuilt = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(out.getvalue())) as source,
        zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode()
                assert '<row r="2"' in xml and "<dimension" not in xml
                xml = re.sub(r'<row r="2"\s*(/>|>\s*</row>)', blank, xml, count=1)
                xml = xml.replace(
                    "<sheetViews>", f'<dimension ref="A1:F{claimed_rows}"/><sheetViews>', 1
                )
                data = xml.encode()
            target.writestr(member, data)
    return rebuilt.getvalue()
