"""A sheet of blank rows, as Excel saves a sheet formatted far below its last item: it is read
off the event loop (the service keeps answering meanwhile), only up to the row limit, and
refused with the limit named, blank rows counted."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.helpers import blank_rows_xlsx
from tests.conftest import MakeAgency, MakeKey, bearer
from tests.processes import served

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BLANK_ROWS = 400_000  # seconds of parsing, on the loop or off it
HEALTHZ_WITHIN_S = 1.0


@pytest.fixture(scope="module")
def blank_sheet() -> bytes:
    return blank_rows_xlsx(BLANK_ROWS)


async def _key(make_agency: MakeAgency, make_key: MakeKey) -> str:
    await make_agency("up-odop")
    return await make_key("agency", "up-odop")


def _upload(content: bytes, name: str = "items.xlsx", kind: str = XLSX) -> dict[str, Any]:
    return {"files": {"file": (name, content, kind)}}


class TestServiceStaysResponsive:
    async def test_healthz_answers_within_a_second_while_a_blank_row_sheet_is_parsed(
        self,
        database_url: str,
        make_agency: MakeAgency,
        make_key: MakeKey,
        tmp_path: Path,
        blank_sheet: bytes,
    ) -> None:
        key = await _key(make_agency, make_key)
        # A row limit above the sheet's rows, so the server reads every one of them.
        env = {"ODOP_LIMITS__MAX_ROWS_PER_BATCH": "2000000"}
        async with served(database_url, tmp_path, env=env, timeout=120) as server:
            upload = asyncio.create_task(
                server.client.post("/v1/batches", headers=bearer(key), **_upload(blank_sheet))
            )
            answers: list[float] = []
            while not upload.done():
                started = time.monotonic()
                r = await server.client.get("/healthz")
                assert r.status_code == 200
                if not upload.done():  # answered while the sheet was still being processed
                    answers.append(time.monotonic() - started)
                await asyncio.sleep(0.05)
            response = await upload
        assert answers, "the upload answered before /healthz was asked"
        # Within a second, as the issue asks, for nine probes in ten; and none stalls the way a
        # sheet parsed on the event loop did (5-7 s for every probe on this machine). One probe
        # caught by the 2-core machine's scheduler (a PostgreSQL checkpoint, the test process
        # itself) is not the service stalling.
        quick = [a for a in answers if a < HEALTHZ_WITHIN_S]
        assert len(quick) >= 0.9 * len(answers), f"/healthz answer times (s): {answers}"
        assert max(answers) < 3 * HEALTHZ_WITHIN_S, f"/healthz answer times (s): {answers}"
        assert len(answers) >= 3, f"the upload answered too soon to tell: {answers}"
        # The sheet has no items: refused once read, with its first row below the header named.
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["row"] == 2


class TestBlankRowsCount:
    async def test_an_xlsx_of_blank_rows_is_refused_naming_the_row_limit(
        self,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
        blank_sheet: bytes,
    ) -> None:
        key = await _key(make_agency, make_key)
        r = await client.post("/v1/batches", headers=bearer(key), **_upload(blank_sheet))
        assert r.status_code == 413, r.text
        assert r.headers["content-type"] == "application/problem+json"
        detail = r.json()["detail"]
        # The default limit (LimitSettings): max_rows_per_batch = 50_000.
        assert "more than 50,000 rows" in detail and "max_rows_per_batch" in detail
        assert "empty rows count too" in detail

    async def test_a_csv_of_blank_lines_is_refused_the_same_way(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(make_agency, make_key)
        content = b"sku,title_en,mrp,price,stock\n" + b",,,,\n" * 60_000
        r = await client.post(
            "/v1/batches", headers=bearer(key), **_upload(content, "items.csv", "text/csv")
        )
        assert r.status_code == 413, r.text
        assert "max_rows_per_batch" in r.json()["detail"]

    async def test_a_sheet_with_a_header_and_nothing_below_is_refused(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        key = await _key(make_agency, make_key)
        content = b"sku,title_en,mrp,price,stock\n\n\n"
        r = await client.post(
            "/v1/batches", headers=bearer(key), **_upload(content, "items.csv", "text/csv")
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == [{"row": 2, "message": "add the items below the header row"}]
