"""Keys, roles and tenant scoping as a caller sees them."""

from __future__ import annotations

import httpx

from tests.api.helpers import PRODUCER, item, wait_for_batch
from tests.conftest import MakeAgency, MakeKey, bearer


class TestAuthentication:
    async def test_missing_key_gets_401_problem(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/v1/products")
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["www-authenticate"] == "Bearer"
        assert "Bearer" in r.json()["detail"]

    async def test_wrong_key_gets_401(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/v1/products", headers=bearer("odop_not-a-real-key"))
        assert r.status_code == 401

    async def test_malformed_header_gets_401(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/v1/products", headers={"Authorization": "Basic abc"})
        assert r.status_code == 401


class TestTenantIsolation:
    async def _seed(self, client: httpx.AsyncClient, key: str) -> dict[str, int]:
        r = await client.post(
            "/v1/batches",
            json={"producers": [PRODUCER], "items": [item("ISO-1")]},
            headers=bearer(key),
        )
        assert r.status_code == 202, r.text
        batch = await wait_for_batch(client, key, r.json()["id"])
        assert batch["counts"]["created"] == 1
        products = (await client.get("/v1/products", headers=bearer(key))).json()["items"]
        producers = (await client.get("/v1/producers", headers=bearer(key))).json()["items"]
        return {"batch": batch["id"], "product": products[0]["id"], "producer": producers[0]["id"]}

    async def test_an_agency_never_sees_another_agencys_catalog(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        await make_agency("up-odop")
        await make_agency("khadi-board")
        owner = await make_key("agency", "up-odop")
        other = await make_key("agency", "khadi-board")
        ids = await self._seed(client, owner)

        assert (await client.get("/v1/products", headers=bearer(other))).json()["items"] == []
        assert (await client.get("/v1/producers", headers=bearer(other))).json()["items"] == []
        for path in (
            f"/v1/products/{ids['product']}",
            f"/v1/producers/{ids['producer']}",
            f"/v1/batches/{ids['batch']}",
        ):
            r = await client.get(path, headers=bearer(other))
            assert r.status_code == 404, path
        # Nor change it: the SKU does not exist for the other agency.
        r = await client.patch("/v1/variants/ISO-1", json={"stock": 0}, headers=bearer(other))
        assert r.status_code == 404
        # Naming the other agency explicitly does not help either.
        r = await client.post(
            "/v1/batches?agency=up-odop", json={"items": [item("X-1")]}, headers=bearer(other)
        )
        assert r.status_code == 404
        owner_view = (
            await client.get(f"/v1/products/{ids['product']}", headers=bearer(owner))
        ).json()
        assert owner_view["variants"][0]["stock_on_hand"] == 4

    async def test_a_partner_key_cannot_write_or_read_the_catalog(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        await make_agency("up-odop")
        partner = await make_key("partner", grants=["up-odop"])
        r = await client.post("/v1/batches", json={"items": [item("P-1")]}, headers=bearer(partner))
        assert r.status_code == 403
        r = await client.post(
            "/v1/producers?agency=up-odop", json=PRODUCER, headers=bearer(partner)
        )
        assert r.status_code == 403
        r = await client.patch(
            "/v1/variants/P-1?agency=up-odop", json={"stock": 1}, headers=bearer(partner)
        )
        assert r.status_code == 403
        agencies = (await client.get("/v1/agencies", headers=bearer(partner))).json()
        assert [a["slug"] for a in agencies] == ["up-odop"]

    async def test_only_admin_creates_agencies(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        await make_agency("up-odop")
        agency_key = await make_key("agency", "up-odop")
        admin = await make_key("admin")
        body = {"slug": "duda-lucknow", "name": "DUDA Lucknow"}
        assert (
            await client.post("/v1/agencies", json=body, headers=bearer(agency_key))
        ).status_code == 403
        r = await client.post("/v1/agencies", json=body, headers=bearer(admin))
        assert r.status_code == 201
        assert (
            await client.post("/v1/agencies", json=body, headers=bearer(admin))
        ).status_code == 409
        # An admin acts for a named agency.
        r = await client.post(
            "/v1/producers?agency=duda-lucknow", json=PRODUCER, headers=bearer(admin)
        )
        assert r.status_code == 201, r.text
        r = await client.post("/v1/producers", json=PRODUCER, headers=bearer(admin))
        assert r.status_code == 422
