"""GET /v1/listings: per-account listing state with filters, the issue timeline, and how the
price and quantity a marketplace gets are derived. The engine that writes listings is not
running here: the tests write the listing rows themselves, as the engine would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from adapters.amazon.sandbox import demo_credentials
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.app import create_app
from odop_sync.config import Settings
from odop_sync.db import transaction
from odop_sync.kit.time import utcnow
from odop_sync.models import Listing, ListingIssue, ListingStatus, Variant
from tests.api.helpers import PRODUCER, item, wait_for_batch
from tests.conftest import MakeAgency, MakeKey, bearer

NOW = utcnow().replace(microsecond=0)


@pytest.fixture
async def client(settings: Settings, engine: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its batch workers but without the sync engine, which would otherwise
    project and push the listings these tests write by hand."""
    quiet = settings.model_copy(
        update={"sync": settings.sync.model_copy(update={"enabled": False})}
    )
    app = create_app(quiet, workers=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@dataclass
class Shop:
    """One agency's catalog and accounts, created through the API."""

    key: str
    accounts: dict[str, int]
    variants: dict[str, int]


async def open_shop(
    client: httpx.AsyncClient,
    make_agency: MakeAgency,
    make_key: MakeKey,
    sessionmaker: async_sessionmaker[AsyncSession],
    slug: str,
    *,
    items: list[dict[str, Any]],
    accounts: dict[str, dict[str, Any]],
) -> Shop:
    agency = await make_agency(slug)
    key = await make_key("agency", slug)
    r = await client.post(
        "/v1/batches", json={"producers": [PRODUCER], "items": items}, headers=bearer(key)
    )
    assert r.status_code == 202, r.text
    batch = await wait_for_batch(client, key, r.json()["id"])
    assert batch["counts"]["rejected"] == 0, batch
    account_ids = {}
    for name, rules in accounts.items():
        body = {
            "adapter": "amazon",
            "name": name,
            "credentials": demo_credentials(),
            **rules,
        }
        r = await client.post("/v1/accounts", json=body, headers=bearer(key))
        assert r.status_code == 201, r.text
        account_ids[name] = r.json()["id"]
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Variant.sku, Variant.id).where(Variant.agency_id == agency.id)
        )
        variants = dict(rows.all())
    return Shop(key, account_ids, variants)


async def add_listing(
    sessionmaker: async_sessionmaker[AsyncSession],
    account_id: int,
    variant_id: int,
    sku: str,
    *,
    issues: Sequence[dict[str, Any]] = (),
    **state: Any,
) -> int:
    async with transaction(sessionmaker) as session:
        listing = Listing(account_id=account_id, variant_id=variant_id, sku=sku, **state)
        session.add(listing)
        await session.flush()
        for issue in issues:
            session.add(ListingIssue(listing_id=listing.id, **issue))
    return listing.id


@dataclass
class World:
    up: Shop
    khadi: Shop
    partner: str
    admin: str
    ids: dict[str, int]


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    make_agency: MakeAgency,
    make_key: MakeKey,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> World:
    up = await open_shop(
        client,
        make_agency,
        make_key,
        sessionmaker,
        "up-odop",
        items=[
            item("CARPET-1", price="1243.00", mrp="1500.00", stock=5),
            item("CARPET-2", price="1495.00", mrp="1500.00", stock=1),
        ],
        accounts={
            "Amazon.in": {"rounding": "ends_in_9", "stock_buffer": 2},
            "Amazon export": {"markup_percent": "5", "rounding": "rupee"},
        },
    )
    khadi = await open_shop(
        client,
        make_agency,
        make_key,
        sessionmaker,
        "khadi-board",
        items=[item("KHADI-1")],
        accounts={"Amazon.in": {}},
    )
    amazon, export = up.accounts["Amazon.in"], up.accounts["Amazon export"]
    ids = {
        "live": await add_listing(
            sessionmaker,
            amazon,
            up.variants["CARPET-1"],
            "CARPET-1",
            status=ListingStatus.LIVE,
            desired_content_hash="c1",
            confirmed_content_hash="c1",
            desired_offer_hash="o1",
            confirmed_offer_hash="o1",
            desired_price_paise=124_900,
            desired_quantity=3,
            remote_id="B0CARPET01",
            last_pushed_at=NOW - timedelta(hours=1),
            last_confirmed_at=NOW - timedelta(hours=1),
        ),
        "rejected": await add_listing(
            sessionmaker,
            amazon,
            up.variants["CARPET-2"],
            "CARPET-2",
            status=ListingStatus.REJECTED,
            desired_content_hash="c2",
            desired_offer_hash="o2",
            desired_price_paise=149_900,
            desired_quantity=0,
            dirty_since=NOW - timedelta(minutes=30),
            failure_count=2,
            next_attempt_at=NOW + timedelta(minutes=5),
            last_pushed_at=NOW - timedelta(minutes=10),
            issues=[
                {
                    "at": NOW - timedelta(minutes=20),
                    "source": "push",
                    "severity": "warning",
                    "code": "8560",
                    "field": "item_weight",
                    "message": "field item_weight of SKU CARPET-2: add the package weight",
                },
                {
                    "at": NOW - timedelta(minutes=10),
                    "source": "feed",
                    "severity": "error",
                    "code": "90220",
                    "field": "bullet_point",
                    "message": "field bullet_point of SKU CARPET-2: add a bullet point",
                },
                {
                    "at": NOW - timedelta(minutes=5),
                    "source": "engine",
                    "severity": "info",
                    "code": None,
                    "field": None,
                    "message": "retrying in 5 minutes",
                },
            ],
        ),
        "pending": await add_listing(
            sessionmaker,
            export,
            up.variants["CARPET-1"],
            "CARPET-1",
            status=ListingStatus.PENDING,
            desired_content_hash="c1",
            confirmed_content_hash="c1",
            desired_offer_hash="o1-new",
            confirmed_offer_hash="o1",
            dirty_since=NOW - timedelta(minutes=1),
        ),
        "paused": await add_listing(
            sessionmaker,
            export,
            up.variants["CARPET-2"],
            "CARPET-2",
            status=ListingStatus.PAUSED,
            desired_content_hash="c2",
            confirmed_content_hash="c2",
            desired_offer_hash="o2",
            confirmed_offer_hash="o2",
            paused_reason="rejected 3 times: add a bullet point",
        ),
        "khadi": await add_listing(
            sessionmaker,
            khadi.accounts["Amazon.in"],
            khadi.variants["KHADI-1"],
            "KHADI-1",
            status=ListingStatus.LIVE,
        ),
    }
    partner = await make_key("partner", None, ["up-odop"])
    admin = await make_key("admin")
    return World(up, khadi, partner, admin, ids)


async def listed(client: httpx.AsyncClient, key: str, **params: Any) -> list[dict[str, Any]]:
    r = await client.get("/v1/listings", params=params, headers=bearer(key))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def ids_of(items: list[dict[str, Any]]) -> list[int]:
    return [i["id"] for i in items]


class TestListingList:
    async def test_an_agency_sees_its_own_listings_with_account_and_state(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        items = await listed(client, world.up.key)
        ids = world.ids
        assert ids_of(items) == [ids["live"], ids["rejected"], ids["pending"], ids["paused"]]
        live, rejected, pending, paused = items
        assert live["account_name"] == "Amazon.in"
        assert live["adapter"] == "amazon"
        assert live["account_id"] == world.up.accounts["Amazon.in"]
        assert live["variant_id"] == world.up.variants["CARPET-1"]
        assert (live["sku"], live["status"], live["remote_id"]) == (
            "CARPET-1",
            "live",
            "B0CARPET01",
        )
        assert (live["desired_price"], live["desired_quantity"]) == ("1249.00", 3)
        assert live["dirty"] is False
        assert live["dirty_since"] is None
        assert live["latest_issue"] is None
        assert live["last_confirmed_at"] is not None

        assert rejected["dirty"] is True
        assert rejected["dirty_since"] is not None
        assert rejected["failure_count"] == 2
        assert rejected["next_attempt_at"] is not None
        assert rejected["latest_issue"]["message"] == "retrying in 5 minutes"
        assert pending["dirty"] is True  # only the offer (price/stock) changed
        assert pending["account_name"] == "Amazon export"
        assert paused["paused_reason"] == "rejected 3 times: add a bullet point"

    async def test_filters_narrow_the_list(self, client: httpx.AsyncClient, world: World) -> None:
        key, ids = world.up.key, world.ids
        export = world.up.accounts["Amazon export"]
        assert ids_of(await listed(client, key, account_id=export)) == [
            ids["pending"],
            ids["paused"],
        ]
        assert ids_of(await listed(client, key, status="rejected")) == [ids["rejected"]]
        assert ids_of(await listed(client, key, sku="CARPET-1")) == [ids["live"], ids["pending"]]
        assert ids_of(await listed(client, key, dirty="true")) == [
            ids["rejected"],
            ids["pending"],
        ]
        assert ids_of(await listed(client, key, dirty="false")) == [ids["live"], ids["paused"]]
        assert ids_of(await listed(client, key, sku="CARPET-2", dirty="true")) == [ids["rejected"]]
        assert await listed(client, key, sku="NO-SUCH-SKU") == []

    async def test_an_unknown_status_is_a_validation_problem(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        r = await client.get(
            "/v1/listings", params={"status": "on_fire"}, headers=bearer(world.up.key)
        )
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["field"] == "status"

    async def test_pages_follow_the_cursor(self, client: httpx.AsyncClient, world: World) -> None:
        seen: list[int] = []
        after = 0
        pages = 0
        while True:
            r = await client.get(
                "/v1/listings", params={"limit": 3, "after": after}, headers=bearer(world.up.key)
            )
            body = r.json()
            seen += ids_of(body["items"])
            pages += 1
            if body["next_cursor"] is None:
                break
            after = body["next_cursor"]
        assert pages == 2
        assert seen == sorted(world.ids[k] for k in ("live", "rejected", "pending", "paused"))

    async def test_an_admin_sees_every_agency_or_names_one(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        assert len(await listed(client, world.admin)) == 5
        assert ids_of(await listed(client, world.admin, agency="khadi-board")) == [
            world.ids["khadi"]
        ]
        r = await client.get(
            "/v1/listings", params={"agency": "nowhere"}, headers=bearer(world.admin)
        )
        assert r.status_code == 404

    async def test_another_agency_sees_none_of_them(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        assert ids_of(await listed(client, world.khadi.key)) == [world.ids["khadi"]]
        account = world.up.accounts["Amazon.in"]
        assert await listed(client, world.khadi.key, account_id=account) == []
        r = await client.get(
            "/v1/listings", params={"agency": "up-odop"}, headers=bearer(world.khadi.key)
        )
        assert r.status_code == 404

    async def test_a_partner_key_is_refused_and_no_key_is_unauthorised(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        r = await client.get("/v1/listings", headers=bearer(world.partner))
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"
        r = await client.get("/v1/listings")
        assert r.status_code == 401


class TestListingDetail:
    async def test_the_timeline_is_newest_first(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        r = await client.get(f"/v1/listings/{world.ids['rejected']}", headers=bearer(world.up.key))
        assert r.status_code == 200, r.text
        body = r.json()
        timeline = [(i["source"], i["severity"], i["code"], i["field"]) for i in body["issues"]]
        assert timeline == [
            ("engine", "info", None, None),
            ("feed", "error", "90220", "bullet_point"),
            ("push", "warning", "8560", "item_weight"),
        ]
        assert body["issues"][1]["message"] == (
            "field bullet_point of SKU CARPET-2: add a bullet point"
        )
        ats = [i["at"] for i in body["issues"]]
        assert ats == sorted(ats, reverse=True)
        assert body["latest_issue"] == body["issues"][0]
        assert body["status"] == "rejected"
        assert body["dirty"] is True

    async def test_price_and_stock_are_derived_from_the_variant_and_the_account(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        r = await client.get(f"/v1/listings/{world.ids['live']}", headers=bearer(world.up.key))
        body = r.json()
        assert body["issues"] == []
        assert body["stock"] == {
            "on_hand": 5,
            "reserved_by_open_orders": 0,
            "buffer": 2,
            "available_to_sell": 3,
        }
        price = body["price"]
        assert price["canonical_price"] == "1243.00"
        assert price["mrp"] == "1500.00"
        assert price["rule"]["rounding"] == "ends_in_9"
        assert price["marked_up"] == "1243.00"
        assert price["rounded"] == "1249.00"
        assert price["final"] == "1249.00"
        assert price["clamped_by"] is None

    async def test_the_mrp_caps_a_marked_up_price(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        r = await client.get(f"/v1/listings/{world.ids['paused']}", headers=bearer(world.up.key))
        body = r.json()
        price = body["price"]
        # 1,495.00 + 5 % = 1,569.75, rounded to 1,570.00, above the MRP of 1,500.00
        assert (price["marked_up"], price["rounded"]) == ("1569.75", "1570.00")
        assert (price["final"], price["clamped_by"]) == ("1500.00", "mrp")
        assert float(price["rule"]["markup_percent"]) == 5
        assert body["stock"]["buffer"] == 0
        assert body["stock"]["available_to_sell"] == 1

    async def test_another_agencys_listing_is_not_found(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        url = f"/v1/listings/{world.ids['live']}"
        r = await client.get(url, headers=bearer(world.khadi.key))
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert (await client.get(url, headers=bearer(world.partner))).status_code == 403
        assert (await client.get(url)).status_code == 401
        assert (await client.get(url, headers=bearer(world.admin))).status_code == 200
        r = await client.get("/v1/listings/999999", headers=bearer(world.up.key))
        assert r.status_code == 404
