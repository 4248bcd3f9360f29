"""Inputs the OpenAPI document allows get answers it documents: integer parameters state the
range their columns hold, a 405 says which methods the resource has, a body that cannot be read
is a documented 400, and a date range that ends before it starts is a 422 naming `to`, as the
parameter's description says."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.helpers import PRODUCER, item, wait_for_batch
from tests.conftest import MakeAgency, MakeKey, bearer

# PostgreSQL's INTEGER (int4) and BIGINT (int8) ranges (its manual, "Numeric Types").
INT4_MAX = 2_147_483_647
INT8_MAX = 9_223_372_036_854_775_807
METHODS = ("get", "post", "put", "patch", "delete")


async def _openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def _integer_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The integer branch of a parameter schema (`anyOf: [integer, null]` for optional ones)."""
    for branch in [schema, *schema.get("anyOf", [])]:
        if branch.get("type") == "integer":
            return branch
    return None


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item_ in schema["paths"].items()
        for method, operation in item_.items()
        if method in METHODS
    ]


def _concrete(path: str) -> str:
    """A path with each {parameter} filled in (1 is valid for ids and SKUs alike)."""
    parts = ["1" if p.startswith("{") else p for p in path.split("/")]
    return "/".join(parts)


class TestIntegerBounds:
    async def test_every_integer_parameter_states_a_range_an_int8_column_holds(
        self, client: httpx.AsyncClient
    ) -> None:
        schema = await _openapi(client)
        seen = 0
        for path, method, operation in _operations(schema):
            for parameter in operation.get("parameters", []):
                integer = _integer_schema(parameter["schema"])
                if integer is None:
                    continue
                seen += 1
                where = f"{method.upper()} {path} ?{parameter['name']}"
                assert "minimum" in integer and "maximum" in integer, where
                assert 0 <= integer["minimum"] <= integer["maximum"] <= INT8_MAX, where
        assert seen >= 20

    async def test_the_batch_row_cursor_is_bounded_by_the_row_number_column(
        self, client: httpx.AsyncClient
    ) -> None:
        """batch_rows.row_no is an INTEGER column: the cursor's maximum is int4's."""
        schema = await _openapi(client)
        parameters = schema["paths"]["/v1/batches/{batch_id}"]["get"]["parameters"]
        after = next(p for p in parameters if p["name"] == "after")
        assert after["schema"]["maximum"] == INT4_MAX

    @pytest.mark.parametrize("after", [INT4_MAX + 1, 4_611_686_018_427_387_903])
    async def test_a_row_cursor_beyond_the_column_is_a_422_naming_after(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey, after: int
    ) -> None:
        await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        r = await client.post(
            "/v1/batches",
            json={"producers": [PRODUCER], "items": [item("A-1")]},
            headers=bearer(key),
        )
        batch_id = r.json()["id"]
        await wait_for_batch(client, key, batch_id)
        r = await client.get(f"/v1/batches/{batch_id}?after={after}", headers=bearer(key))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in r.json()["errors"]] == ["after"]
        last = await client.get(f"/v1/batches/{batch_id}?after={INT4_MAX}", headers=bearer(key))
        assert last.status_code == 200, last.text
        assert last.json()["rows"] == []


class TestMethodNotAllowed:
    async def test_a_405_lists_every_method_the_document_gives_the_path(
        self, client: httpx.AsyncClient
    ) -> None:
        schema = await _openapi(client)
        checked = 0
        for path, item_ in schema["paths"].items():
            declared = {m.upper() for m in item_ if m in METHODS}
            undeclared = next(m for m in ("PUT", "DELETE", "PATCH", "POST") if m not in declared)
            r = await client.request(undeclared, _concrete(path))
            assert r.status_code == 405, (undeclared, path, r.status_code)
            allow = {m.strip() for m in r.headers.get("allow", "").split(",") if m.strip()}
            assert allow == declared, (path, r.headers.get("allow"))
            checked += 1
        assert checked >= 20

    async def test_options_on_batches_names_get_and_post(self, client: httpx.AsyncClient) -> None:
        r = await client.options("/v1/batches")
        assert r.status_code == 405
        assert r.headers["allow"] == "GET, POST"


class TestUnreadableBody:
    async def test_a_body_that_is_not_json_text_is_a_documented_400(
        self, client: httpx.AsyncClient
    ) -> None:
        schema = await _openapi(client)
        json_only = [
            (path, method, operation)
            for path, method, operation in _operations(schema)
            if set(operation.get("requestBody", {}).get("content", {})) == {"application/json"}
        ]
        assert {(p, m) for p, m, _ in json_only} >= {
            ("/v1/agencies", "post"),
            ("/v1/accounts", "post"),
            ("/v1/sync/runs", "post"),
        }
        for path, method, operation in json_only:
            documented = operation["responses"].get("400", {}).get("content", {})
            assert documented.get("application/problem+json") == {
                "schema": {"$ref": "#/components/schemas/Problem"}
            }, (method, path)
            r = await client.request(
                method.upper(),
                _concrete(path),
                content=b'{"name": "\xff\xfe"}',  # not UTF-8: not JSON text
                headers={"content-type": "application/json"},
            )
            assert r.status_code == 400, (method, path, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["status"] == 400


class TestDateRanges:
    @pytest.mark.parametrize("path", ["/v1/orders", "/v1/sales/summary", "/v1/sales/summary.csv"])
    async def test_to_before_from_is_a_422_naming_to(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey, path: str
    ) -> None:
        await make_agency("up-odop")
        key = await make_key("agency", "up-odop")
        r = await client.get(
            path, params={"from": "2025-11-10", "to": "2025-11-01"}, headers=bearer(key)
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        [error] = r.json()["errors"]
        assert error["field"] == "to"
        assert "2025-11-01 is before 'from' (2025-11-10)" in error["message"]
        same_day = await client.get(
            path, params={"from": "2025-11-10", "to": "2025-11-10"}, headers=bearer(key)
        )
        assert same_day.status_code == 200, same_day.text

    @pytest.mark.parametrize("path", ["/v1/orders", "/v1/sales/summary", "/v1/sales/summary.csv"])
    async def test_the_schema_states_the_range_rule(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        schema = await _openapi(client)
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert "must not be before `from`" in parameters["to"]["description"]
