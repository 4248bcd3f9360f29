"""POST /v1/fx/rates (admin keys) and GET /v1/fx/rates (any key): what is stored, which rate is
in force, what a replacement leaves in the audit log, and what bad input gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.models import AuditRecord, FxRate
from tests.conftest import MakeAgency, MakeKey, bearer

TODAY = datetime.now(UTC).date()


async def post(client: httpx.AsyncClient, key: str, **body: Any) -> httpx.Response:
    return await client.post("/v1/fx/rates", json=body, headers=bearer(key))


class TestRatesApi:
    async def test_an_admin_sets_a_rate_and_any_key_reads_it(
        self, client: httpx.AsyncClient, make_agency: MakeAgency, make_key: MakeKey
    ) -> None:
        await make_agency("up-odop")
        admin = await make_key("admin")
        partner = await make_key("partner", grants=["up-odop"])
        r = await post(client, admin, currency="usd", rate="84.12", source="RBI")
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["currency"], body["rate"], body["source"]) == ("USD", "84.12", "RBI")
        assert body["valid_on"] == str(TODAY)  # the default: today (UTC)
        assert (body["replaced"], body["orders_priced"]) == (None, 0)
        assert body["created_by"].startswith("key:")

        listed = await client.get("/v1/fx/rates", headers=bearer(partner))
        assert listed.status_code == 200, listed.text
        got = listed.json()
        assert [(r["currency"], r["rate"], r["valid_on"]) for r in got["items"]] == [
            ("USD", "84.12", str(TODAY))
        ]
        [usd] = got["in_force"]
        assert (usd["currency"], usd["fresh"], usd["held_reason"]) == ("USD", True, None)
        assert usd["rate"]["rate"] == "84.12"

    async def test_the_same_currency_date_and_source_replaces_and_is_audited(
        self,
        client: httpx.AsyncClient,
        make_key: MakeKey,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        admin = await make_key("admin")
        day = str(TODAY - timedelta(days=1))
        first = await post(client, admin, currency="USD", rate="84.10", source="RBI", valid_on=day)
        assert first.status_code == 201, first.text
        again = await post(client, admin, currency="USD", rate=84.12, source="RBI", valid_on=day)
        assert again.status_code == 200, again.text
        assert (again.json()["rate"], again.json()["replaced"]) == ("84.12", "84.10")
        assert again.json()["id"] == first.json()["id"]
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(FxRate)) == 1
            audits = list(
                await session.scalars(
                    select(AuditRecord)
                    .where(AuditRecord.entity == "fx_rate")
                    .order_by(AuditRecord.id)
                )
            )
        assert [a.action for a in audits] == ["create", "update"]
        assert audits[1].before is not None and audits[1].before["rate"] == "84.10"
        assert audits[1].after is not None and audits[1].after["rate"] == "84.12"

    async def test_the_newest_date_is_in_force_and_on_one_date_the_last_entered(
        self, client: httpx.AsyncClient, make_key: MakeKey
    ) -> None:
        admin = await make_key("admin")
        older = str(TODAY - timedelta(days=2))
        for rate, source, day in (
            ("83.90", "RBI", older),
            ("84.12", "RBI", str(TODAY)),
            ("84.30", "SBI TT", str(TODAY)),  # entered after RBI's of the same day
            ("85.00", "RBI", str(TODAY + timedelta(days=1))),  # tomorrow's: not in force yet
        ):
            r = await post(client, admin, currency="USD", rate=rate, source=source, valid_on=day)
            assert r.status_code == 201, r.text
        got = (await client.get("/v1/fx/rates?currency=USD", headers=bearer(admin))).json()
        assert [r["rate"] for r in got["items"]] == ["85.00", "84.30", "84.12", "83.90"]
        assert got["in_force"][0]["rate"]["rate"] == "84.30"
        assert got["in_force"][0]["rate"]["source"] == "SBI TT"

    async def test_only_an_admin_key_may_set_a_rate(
        self,
        client: httpx.AsyncClient,
        make_agency: MakeAgency,
        make_key: MakeKey,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await make_agency("up-odop")
        for role in ("agency", "partner"):
            key = await make_key(role, "up-odop" if role == "agency" else None)
            r = await post(client, key, currency="USD", rate="84.12", source="RBI")
            assert r.status_code == 403, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["detail"] == "only an admin key can do this"
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(FxRate)) == 0

    @pytest.mark.parametrize(
        ("body", "field", "words"),
        [
            ({"currency": "INR"}, "currency", "INR needs none"),
            ({"currency": "JPY"}, "currency", "does not have two decimal places"),
            ({"currency": "US1"}, "currency", "pattern"),
            ({"rate": "0"}, "rate", "greater than 0"),
            ({"rate": "84.1234567"}, "rate", "more than 6 decimal places"),
            ({"rate": "99999999"}, "rate", "must be below"),
            ({"rate": "lots"}, "rate", "decimal"),
            ({"source": ""}, "source", "at least 1"),
            ({"source": "x" * 41}, "source", "at most 40"),
            ({"valid_on": str(TODAY + timedelta(days=2))}, "valid_on", "tomorrow"),
            ({"valid_on": "1999-12-31"}, "valid_on", "from 2000-01-01"),
            ({"valid_on": "2026-02-30"}, "valid_on", "date"),
        ],
    )
    async def test_bad_input_names_the_field_and_stores_nothing(
        self,
        client: httpx.AsyncClient,
        make_key: MakeKey,
        sessionmaker: async_sessionmaker[AsyncSession],
        body: dict[str, Any],
        field: str,
        words: str,
    ) -> None:
        admin = await make_key("admin")
        r = await post(
            client, admin, **{"currency": "USD", "rate": "84.12", "source": "RBI", **body}
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        errors = r.json()["errors"]
        assert [e["field"] for e in errors] == [field], errors
        assert words in errors[0]["message"], errors
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(FxRate)) == 0

    async def test_listing_by_an_unknown_key_or_a_bad_currency(
        self, client: httpx.AsyncClient, make_key: MakeKey
    ) -> None:
        assert (await client.get("/v1/fx/rates")).status_code == 401
        admin = await make_key("admin")
        r = await client.get("/v1/fx/rates?currency=US", headers=bearer(admin))
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == ["currency"]
