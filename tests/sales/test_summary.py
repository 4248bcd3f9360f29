"""GET /v1/sales/summary: figures per group that equal the order lines net of cancellations
and returns, for every grouping; partner scoping; problem+json for bad parameters; CSV."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.adapter_sdk import OrderStatus
from odop_sync.models import Order, OrderLine, OrderStatusChange, SalesRollup, StockMovement
from tests.conftest import MakeKey, bearer
from tests.orders.helpers import CATALOG, T0, Shop, ingest_page, line, order

S = OrderStatus
# India Standard Time is UTC+05:30 all year (no daylight saving): a sale's day is its IST date.
IST = timezone(timedelta(hours=5, minutes=30))


def indian_day(at: datetime) -> date:
    """The Indian calendar day of a moment, worked out here rather than by the service."""
    return at.astimezone(IST).date()


RANGE = {"from": "2025-10-01", "to": "2026-01-31"}
GROUPINGS = [
    "", "district", "producer", "craft", "product", "marketplace", "day", "month", "quarter",
    "district,marketplace", "craft,month", "product,quarter", "producer,marketplace,day",
]  # fmt: skip


async def _summary(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    r = await client.get("/v1/sales/summary", params={**RANGE, **params}, headers=bearer(key))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


class TestSalesSummary:
    async def test_cancelled_and_returned_units_leave_net(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        key = await make_key("agency", "up-odop")
        await ingest_page(
            sessionmaker, shop.amazon,
            order("A-1", line("BHD-RUG-RED", 2)),
            order("A-2", line("FZD-BANGLE", 3, returned=1), status=S.DELIVERED),
            order("A-3", line("VNS-SAREE", 1), status=S.CANCELLED),
        )  # fmt: skip
        body = await _summary(client, key, group_by="district")
        rows = {row["district"]: row for row in body["rows"]}
        assert rows["bhadohi"]["units_net"] == 2
        assert Decimal(rows["bhadohi"]["net"]) == Decimal("3000.00")
        assert rows["firozabad"]["units"] == 3
        assert rows["firozabad"]["units_net"] == 2
        assert Decimal(rows["firozabad"]["net"]) == Decimal("598.00")
        assert rows["varanasi"]["units_net"] == 0
        assert Decimal(rows["varanasi"]["gross"]) == Decimal("4500.50")
        assert body["totals"]["orders"] == 3
        assert body["as_of"] is not None

    async def test_growth_compares_with_the_period_before(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        key = await make_key("agency", "up-odop")
        await ingest_page(
            sessionmaker, shop.amazon,
            order("A-1", line("FZD-BANGLE", 2), at=T0 - timedelta(days=31)),
            order("A-2", line("FZD-BANGLE", 3), at=T0),
        )  # fmt: skip
        body = await _summary(client, key, group_by="month", **{"from": "2025-10-01"})
        months = {row["period"]: row for row in body["rows"]}
        assert months["2025-11"]["growth_percent"] == "50.0"
        assert months["2025-10"]["growth_percent"] is None

    async def test_a_sale_counts_on_its_indian_day(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        key = await make_key("agency", "up-odop")
        await ingest_page(
            sessionmaker, shop.amazon,
            # 31 Oct 18:29 UTC is 31 Oct 23:59 IST; 18:31 UTC is already 1 Nov 00:01 IST.
            order("A-1", line("FZD-BANGLE", 1), at=datetime(2025, 10, 31, 18, 29, tzinfo=UTC)),
            order("A-2", line("FZD-BANGLE", 2), at=datetime(2025, 10, 31, 18, 31, tzinfo=UTC)),
        )  # fmt: skip
        days = (await _summary(client, key, group_by="day"))["rows"]
        assert {row["period"]: row["units"] for row in days} == {"2025-10-31": 1, "2025-11-01": 2}
        months = (await _summary(client, key, group_by="month"))["rows"]
        assert {row["period"]: row["units"] for row in months} == {"2025-10": 1, "2025-11": 2}

    async def test_a_partner_key_sees_only_the_agencies_granted_to_it(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        await ingest_page(sessionmaker, shop.amazon, order("A-1", line("BHD-RUG-RED", 1)))
        await ingest_page(sessionmaker, shop.other_account, order("K-1", line("KHADI-1", 4)))
        partner = await make_key("partner", grants=["khadi-board"])
        agency = await make_key("agency", "up-odop")
        admin = await make_key("admin")
        assert (await _summary(client, partner))["totals"]["units"] == 4
        assert (await _summary(client, agency))["totals"]["units"] == 1
        assert (await _summary(client, admin))["totals"]["units"] == 5
        nobody = await make_key("partner", grants=[])
        assert (await _summary(client, nobody))["totals"]["units"] == 0

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"group_by": "colour"}, "group_by"),
            ({"group_by": "day,month"}, "group_by"),
            ({"from": "2025-12-01", "to": "2025-11-01"}, "to"),
            ({"from": "not-a-date"}, "from"),
            ({"to": "2025-13-01"}, "to"),
            ({"from": "1990-01-01", "to": "2025-01-01"}, "from"),
        ],
    )
    async def test_bad_parameters_get_a_422_naming_the_field(
        self, client: httpx.AsyncClient, make_key: MakeKey, shop: Shop,
        params: dict[str, str], field: str,
    ) -> None:  # fmt: skip
        key = await make_key("agency", "up-odop")
        r = await client.get("/v1/sales/summary", params=params, headers=bearer(key))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in r.json()["errors"]]

    async def test_the_csv_has_a_header_and_rupees(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey,
    ) -> None:  # fmt: skip
        key = await make_key("agency", "up-odop")
        await ingest_page(
            sessionmaker, shop.flipkart,
            order("F-1", line("VNS-SAREE", 2, returned=1), status=S.DELIVERED),
        )  # fmt: skip
        r = await client.get(
            "/v1/sales/summary.csv", params={**RANGE, "group_by": "marketplace,month"},
            headers=bearer(key),
        )  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert rows == [
            {
                "marketplace": "flipkart", "period": "2025-11", "units": "2", "units_net": "1",
                "units_cancelled": "0", "units_returned": "1",
                "gross_inr": "9001.00", "net_inr": "4500.50", "orders": "1",
                "previous_net_inr": "0.00", "growth_percent": "",
            }
        ]  # fmt: skip


SKUS = [*CATALOG, "UNKNOWN-SKU"]
line_st = st.tuples(st.sampled_from(SKUS), st.integers(1, 4), st.integers(0, 4), st.integers(0, 4))
order_st = st.tuples(
    st.lists(line_st, min_size=1, max_size=3, unique_by=lambda t: t[0]),
    st.integers(0, 80),  # days after 1 Oct 2025
    st.integers(0, 23),  # hour (UTC): some fall on the next Indian day
    st.sampled_from(list(S)),  # status first pulled
    st.sampled_from(list(S)),  # status later
    st.booleans(),  # Amazon or Flipkart
)


class TestSummaryProperty:
    @given(orders=st.lists(order_st, min_size=1, max_size=12))
    @settings(
        max_examples=25, deadline=None, database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )  # fmt: skip
    async def test_every_grouping_sums_to_the_order_lines_net_of_cancellations_and_returns(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey, orders: list[Any],
    ) -> None:  # fmt: skip
        await _forget_orders(sessionmaker)
        key = await make_key("agency", "up-odop")
        start = T0.replace(month=10, day=1)
        expected: dict[str, int] = defaultdict(int)
        by_district: dict[str | None, int] = defaultdict(int)
        for n, (lines, days, hour, first, later, amazon) in enumerate(orders):
            account = shop.amazon if amazon else shop.flipkart
            at = start + timedelta(days=days, hours=hour - start.hour)
            built = [line(sku, q, cancelled=c, returned=r) for sku, q, c, r in lines]
            await ingest_page(sessionmaker, account, order(f"O-{n}", *built, status=first, at=at))
            await ingest_page(
                sessionmaker, account,
                order(f"O-{n}", *built, status=later, at=at, updated_minutes=30),
            )  # fmt: skip
            assert indian_day(at).isoformat() <= RANGE["to"]
            for sku, q, c, r in lines:
                if later is S.CANCELLED:
                    c, r = q, 0
                else:
                    c = min(c, q)
                    r = q - c if later is S.RETURNED else min(r, q - c)
                price = CATALOG[sku][4] if sku in CATALOG else 10_000
                expected["units"] += q
                expected["units_net"] += q - c - r
                expected["units_cancelled"] += c
                expected["units_returned"] += r
                expected["gross"] += q * price
                expected["net"] += (q - c - r) * price
                by_district[CATALOG[sku][2] if sku in CATALOG else None] += (q - c - r) * price
            expected["orders"] += 1
        for grouping in GROUPINGS:
            body = await _summary(client, key, group_by=grouping)
            for figures in [body["totals"], _sum_rows(body["rows"])]:
                assert figures["units"] == expected["units"], grouping
                assert figures["units_net"] == expected["units_net"], grouping
                assert figures["units_cancelled"] == expected["units_cancelled"], grouping
                assert figures["units_returned"] == expected["units_returned"], grouping
                assert _paise(figures["gross"]) == expected["gross"], grouping
                assert _paise(figures["net"]) == expected["net"], grouping
                assert figures["orders"] == expected["orders"], grouping
        rows = (await _summary(client, key, group_by="district"))["rows"]
        assert {r["district"]: _paise(r["net"]) for r in rows} == dict(by_district)

    @given(
        orders=st.lists(order_st, min_size=1, max_size=10),
        first=st.integers(0, 80),  # days after 1 Oct 2025
        length=st.integers(1, 90),
    )
    @settings(
        max_examples=15, deadline=None, database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )  # fmt: skip
    async def test_any_range_counts_the_lines_of_its_days_and_the_period_before(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        shop: Shop, make_key: MakeKey, orders: list[Any], first: int, length: int,
    ) -> None:  # fmt: skip
        """Ranges that start and end inside months (whole months from the monthly rollups, edge
        days from the daily ones): every grouping's figures are the net of the lines whose
        Indian day is in the range, each month's row the sum of its days, and previous_net the
        net of the days just before, of equal length."""
        await _forget_orders(sessionmaker)
        key = await make_key("agency", "up-odop")
        oct1 = T0.replace(month=10, day=1)
        start = indian_day(oct1) + timedelta(days=first)
        end = start + timedelta(days=length - 1)
        net_by_day: dict[date, int] = defaultdict(int)
        for n, (lines, days, hour, _, later, amazon) in enumerate(orders):
            account = shop.amazon if amazon else shop.flipkart
            at = oct1 + timedelta(days=days, hours=hour - oct1.hour)
            built = [line(sku, q, cancelled=c, returned=r) for sku, q, c, r in lines]
            await ingest_page(sessionmaker, account, order(f"O-{n}", *built, status=later, at=at))
            for sku, q, c, r in lines:
                if later is S.CANCELLED:
                    c, r = q, 0
                else:
                    c = min(c, q)
                    r = q - c if later is S.RETURNED else min(r, q - c)
                price = CATALOG[sku][4] if sku in CATALOG else 10_000
                net_by_day[indian_day(at)] += (q - c - r) * price
        params = {"from": start.isoformat(), "to": end.isoformat()}

        def net(since: date, until: date) -> int:
            return sum(v for day, v in net_by_day.items() if since <= day <= until)

        for grouping in ["", "district", "producer", "product,marketplace", "craft,month",
                         "marketplace,quarter", "day"]:  # fmt: skip
            body = await _summary(client, key, group_by=grouping, **params)
            assert _paise(body["totals"]["net"]) == net(start, end), grouping
            assert _paise(_sum_rows(body["rows"])["net"]) == net(start, end), grouping
        body = await _summary(client, key, **params)
        before = net(start - timedelta(days=length), start - timedelta(days=1))
        assert _paise(body["totals"]["previous_net"]) == before
        months = (await _summary(client, key, group_by="month", **params))["rows"]
        days = (await _summary(client, key, group_by="day", **params))["rows"]
        by_month: dict[str, int] = defaultdict(int)
        for row in days:
            by_month[row["period"][:7]] += _paise(row["net"])
        assert {r["period"]: _paise(r["net"]) for r in months} == dict(by_month)


async def _forget_orders(sm: async_sessionmaker[AsyncSession]) -> None:
    """Each example starts with no orders (the catalog and accounts stay)."""
    async with sm() as s, s.begin():
        for model in (OrderStatusChange, OrderLine, Order, SalesRollup, StockMovement):
            await s.execute(delete(model))


def _paise(rupees: str | Decimal) -> int:
    return int(Decimal(rupees) * 100)


def _sum_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"units": 0, "units_net": 0, "units_cancelled": 0, "units_returned": 0,
                           "gross": Decimal(0), "net": Decimal(0), "orders": 0}  # fmt: skip
    for row in rows:
        for name in out:
            out[name] += Decimal(row[name]) if name in ("gross", "net") else row[name]
    return out
