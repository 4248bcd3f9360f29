"""Publishing batches over the REST API: JSON and sheets, bad rows, idempotency, dry runs."""

from __future__ import annotations

import io

import httpx
import openpyxl
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.models import AuditRecord, StockMovement
from tests.api.helpers import PRODUCER, item, wait_for_batch
from tests.conftest import MakeAgency, MakeKey, bearer

CSV_HEADER = (
    "sku,producer_ref,title_en,title_hi,district,hsn_code,gst_rate,mrp,price,stock,images\n"
)


async def _agency_key(make_agency: MakeAgency, make_key: MakeKey) -> str:
    await make_agency("up-odop")
    return await make_key("agency", "up-odop")


class TestJsonBatch:
    async def test_mixed_batch_applies_good_rows_and_names_bad_rows_and_fields(
        self,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        items = [
            item("GOOD-1"),
            item("BAD-PRICE", price="20000.00"),  # above MRP
            item("GOOD-2", stock=0),
            item("BAD HSN!", hsn_code="57"),  # bad sku and hsn
            item("GOOD-1"),  # same SKU again in one batch
        ]
        r = await client.post(
            "/v1/batches", json={"producers": [PRODUCER], "items": items}, headers=bearer(key)
        )
        assert r.status_code == 202
        assert r.headers["location"] == f"/v1/batches/{r.json()['id']}"
        batch = await wait_for_batch(client, key, r.json()["id"])
        assert batch["counts"] == {
            "total": 5,
            "processed": 5,
            "created": 2,
            "updated": 0,
            "unchanged": 0,
            "rejected": 3,
        }
        rows = {row["row"]: row for row in batch["rows"]}
        assert rows[1]["status"] == "created"
        assert {(e["row"], e["field"]) for e in rows[2]["errors"]} == {(2, "price")}
        assert {e["field"] for e in rows[4]["errors"]} >= {"sku", "hsn_code"}
        assert rows[5]["errors"][0]["field"] == "sku"
        assert "row 1" in rows[5]["errors"][0]["message"]

        products = (await client.get("/v1/products", headers=bearer(key))).json()["items"]
        assert sorted(v["sku"] for p in products for v in p["variants"]) == ["GOOD-1", "GOOD-2"]
        # Nothing of a rejected row was half-applied; the stock ledger explains every unit.
        async with sessionmaker() as session:
            moves = (await session.execute(select(StockMovement.delta, StockMovement.reason))).all()
            assert [(d, r.value) for d, r in moves] == [(4, "batch")]
            audits = await session.scalar(select(func.count()).select_from(AuditRecord))
            assert audits and audits >= 3  # producer, product(s), variants

    async def test_resending_changes_only_what_changed(
        self,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        first = {"producers": [PRODUCER], "items": [item("A-1"), item("A-2")]}
        r = await client.post("/v1/batches", json=first, headers=bearer(key))
        await wait_for_batch(client, key, r.json()["id"])
        second = {"items": [item("A-1"), item("A-2", stock=9, price="14999")]}
        r = await client.post("/v1/batches", json=second, headers=bearer(key))
        batch = await wait_for_batch(client, key, r.json()["id"])
        assert batch["counts"]["unchanged"] == 1
        assert batch["counts"]["updated"] == 1
        products = (await client.get("/v1/products", headers=bearer(key))).json()["items"]
        a2 = next(v for p in products for v in p["variants"] if v["sku"] == "A-2")
        assert (a2["price"], a2["stock_on_hand"], a2["version"]) == ("14999.00", 9, 2)
        async with sessionmaker() as session:
            deltas = (
                await session.scalars(select(StockMovement.delta).order_by(StockMovement.id))
            ).all()
        assert deltas == [4, 4, 5]

    async def test_same_idempotency_key_returns_the_same_batch_and_changes_nothing(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        body = {"producers": [PRODUCER], "items": [item("IDEM-1")]}
        headers = {**bearer(key), "Idempotency-Key": "upload-2026-11-23-001"}
        r1 = await client.post("/v1/batches", json=body, headers=headers)
        assert r1.status_code == 202
        await wait_for_batch(client, key, r1.json()["id"])
        r2 = await client.post("/v1/batches", json=body, headers=headers)
        assert r2.status_code == 200
        assert r2.headers["idempotent-replayed"] == "true"
        assert r2.json()["id"] == r1.json()["id"]
        assert len((await client.get("/v1/batches", headers=bearer(key))).json()) == 1
        # The same key with a different body is a mistake the caller must hear about.
        other = {"items": [item("IDEM-2")]}
        r3 = await client.post("/v1/batches", json=other, headers=headers)
        assert r3.status_code == 409
        assert r3.headers["content-type"].startswith("application/problem+json")

    async def test_dry_run_reports_outcomes_and_stores_nothing(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        body = {"producers": [PRODUCER], "items": [item("DRY-1"), item("DRY-2", mrp="0")]}
        r = await client.post("/v1/batches?dry_run=true", json=body, headers=bearer(key))
        assert r.status_code == 200
        report = r.json()
        assert report["dry_run"] is True
        assert [row["status"] for row in report["rows"]] == ["created", "rejected"]
        assert report["rows"][1]["errors"][0]["field"] == "mrp"
        assert (await client.get("/v1/products", headers=bearer(key))).json()["items"] == []
        assert (await client.get("/v1/producers", headers=bearer(key))).json()["items"] == []
        assert (await client.get("/v1/batches", headers=bearer(key))).json() == []

    async def test_unknown_producer_is_named_in_the_row(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        r = await client.post(
            "/v1/batches",
            json={"items": [item("NP-1", producer_ref="nobody")]},
            headers=bearer(key),
        )
        batch = await wait_for_batch(client, key, r.json()["id"])
        (error,) = batch["rows"][0]["errors"]
        assert error["field"] == "producer_ref"
        assert "nobody" in error["message"]


class TestBadRequests:
    async def test_not_json_gets_a_problem_not_a_crash(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        r = await client.post(
            "/v1/batches",
            content=b"{not json",
            headers={**bearer(key), "Content-Type": "application/json"},
        )
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")

    async def test_items_must_be_a_list(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        r = await client.post("/v1/batches", json={"items": "nope"}, headers=bearer(key))
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "items"

    async def test_an_oversized_body_gets_413(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey, app: object
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        limit = app.state.settings.limits.max_body_bytes  # type: ignore[attr-defined]
        r = await client.post(
            "/v1/batches",
            content=b"x" * (limit + 1),
            headers={**bearer(key), "Content-Type": "application/json"},
        )
        assert r.status_code == 413

    async def test_an_unsupported_sheet_type_gets_415(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        legacy_xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
        r = await client.post(
            "/v1/batches", files={"file": ("catalog.xls", legacy_xls)}, headers=bearer(key)
        )
        assert r.status_code == 415
        assert "xlsx" in r.json()["detail"].lower()

    async def test_a_multipart_body_with_too_many_parts_gets_422_naming_the_file_field(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        extra = {f"note{n}": "x" for n in range(12)}
        r = await client.post(
            "/v1/batches",
            data=extra,
            files={"file": ("kurtas.csv", b"sku\nA-1\n", "text/csv")},
            headers=bearer(key),
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        (issue,) = r.json()["errors"]
        assert issue["field"] == "file" and "Too many fields" in issue["message"]


class TestSheetUploads:
    async def _producer(self, client: httpx.AsyncClient, key: str) -> None:
        r = await client.post("/v1/producers", json=PRODUCER, headers=bearer(key))
        assert r.status_code == 201, r.text

    async def test_windows_1252_csv_keeps_its_text(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        await self._producer(client, key)
        title = "Café-style durrie – “Mirzapur” weave"
        content = (
            CSV_HEADER
            + f'W-1,weaver-ramesh,"{title}",,Mirzapur,5702,5,1200,999,3,https://cdn.example.org/d.jpg\n'
        ).encode("cp1252")
        r = await client.post(
            "/v1/batches", files={"file": ("durries.csv", content, "text/csv")}, headers=bearer(key)
        )
        assert r.status_code == 202, r.text
        batch = await wait_for_batch(client, key, r.json()["id"])
        assert batch["counts"]["created"] == 1, batch["rows"]
        product = (await client.get("/v1/products", headers=bearer(key))).json()["items"][0]
        assert product["title_en"] == title

    async def test_utf16_tab_separated_sheet_keeps_hindi(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        await self._producer(client, key)
        hindi = "लखनवी चिकनकारी कुर्ता"
        text = (
            CSV_HEADER.replace(",", "\t")
            + "\t".join(
                [
                    "C-1",
                    "weaver-ramesh",
                    "Lucknowi chikankari kurta",
                    hindi,
                    "Lucknow",
                    "62114200",
                    "5",
                    "2499",
                    "1999",
                    "7",
                    "https://cdn.example.org/k.jpg",
                ]
            )
            + "\n"
        )
        content = text.encode("utf-16")  # with BOM, as Excel's "Unicode Text" saves it
        r = await client.post(
            "/v1/batches", files={"file": ("kurta.txt", content, "text/plain")}, headers=bearer(key)
        )
        assert r.status_code == 202, r.text
        batch = await wait_for_batch(client, key, r.json()["id"])
        assert batch["counts"]["created"] == 1, batch["rows"]
        product = (await client.get("/v1/products", headers=bearer(key))).json()["items"][0]
        assert product["title_hi"] == hindi
        assert product["hsn_code"] == "62114200"

    async def test_xlsx_with_devanagari_and_a_bad_row(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        await self._producer(client, key)
        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws.append(CSV_HEADER.strip().split(","))
        ws.append(
            [
                "T-1",
                "weaver-ramesh",
                "Gorakhpur terracotta horse",
                "गोरखपुर टेराकोटा घोड़ा",
                "Gorakhpur",
                6913,
                5,
                1800,
                1500,
                12,
                "https://cdn.example.org/t.jpg",
            ]
        )
        ws.append(
            [
                "T-2",
                "weaver-ramesh",
                "Terracotta lamp",
                "टेराकोटा दीया",
                "Gorakhpur",
                6913,
                7,
                300,
                250,
                5,
                "https://cdn.example.org/l.jpg",
            ]
        )  # GST 7% is no rate
        buf = io.BytesIO()
        wb.save(buf)
        r = await client.post(
            "/v1/batches",
            files={
                "file": (
                    "terracotta.xlsx",
                    buf.getvalue(),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                )
            },
            headers=bearer(key),
        )
        assert r.status_code == 202, r.text
        batch = await wait_for_batch(client, key, r.json()["id"])
        assert batch["source"] == "xlsx"
        rows = {row["row"]: row for row in batch["rows"]}
        assert rows[2]["status"] == "created"
        assert rows[3]["status"] == "rejected"
        assert rows[3]["errors"][0] == {
            "row": 3,
            "field": "gst_rate",
            "message": rows[3]["errors"][0]["message"],
        }
        product = (await client.get("/v1/products", headers=bearer(key))).json()["items"][0]
        assert product["title_hi"] == "गोरखपुर टेराकोटा घोड़ा"


class TestTextTheDatabaseCannotStore:
    async def test_a_row_with_a_nul_character_is_rejected_by_row_and_the_rest_applied(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        body = {
            "producers": [PRODUCER],
            "items": [item("NUL-1", title_en="bad\x00title"), item("OK-1")],
        }
        r = await client.post("/v1/batches", json=body, headers=bearer(key))
        assert r.status_code == 202, r.text
        batch = await wait_for_batch(client, key, r.json()["id"])
        rows = {row["row"]: row for row in batch["rows"]}
        assert rows[1]["status"] == "rejected"
        assert "NUL" in rows[1]["errors"][0]["message"]
        assert rows[2]["status"] == "created"

    async def test_a_nul_in_a_query_or_body_is_a_422_not_a_crash(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        r = await client.get("/v1/products?craft=a%00b", headers=bearer(key))
        assert r.status_code == 422
        r = await client.post(
            "/v1/producers", json={**PRODUCER, "name_en": "a\x00"}, headers=bearer(key)
        )
        assert r.status_code == 422


class TestProductChanges:
    async def test_a_changed_title_updates_the_product_and_is_audited(
        self,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        key = await _agency_key(make_agency, make_key)
        r = await client.post(
            "/v1/batches",
            json={"producers": [PRODUCER], "items": [item("T-1")]},
            headers=bearer(key),
        )
        await wait_for_batch(client, key, r.json()["id"])
        r = await client.post(
            "/v1/batches",
            json={"items": [item("T-1", title_en="Bhadohi silk carpet")]},
            headers=bearer(key),
        )
        batch = await wait_for_batch(client, key, r.json()["id"])
        assert batch["counts"]["updated"] == 1
        product = (await client.get("/v1/products", headers=bearer(key))).json()["items"][0]
        assert product["title_en"] == "Bhadohi silk carpet"
        async with sessionmaker() as session:
            audit = await session.scalar(
                select(AuditRecord).where(
                    AuditRecord.entity == "product", AuditRecord.action == "update"
                )
            )
        assert audit is not None
        assert audit.after == {"title_en": "Bhadohi silk carpet"}
