"""Trade Assurance orders: the list (changed in the pass's window, 0-based pages of 50) and get
for each; statuses onto the core's states as the contract note maps them; USD amounts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from odop_sync.adapter_sdk import Money, OrderStatus
from odop_sync.adapter_sdk.testing import pull_pass
from tests.adapters.alibaba.conftest import Rig
from tests.adapters.alibaba.fake_gop import FakeGop


async def test_an_order_comes_in_usd_with_its_lines_by_sku(rig: Rig, gop: FakeGop) -> None:
    at = rig.clock.utcnow() - timedelta(hours=1)
    gop.place_order("T-1", "BHD-CARPET-RED", "200.0000", "155.50", "paid", at)
    done = await pull_pass(rig.adapter, updated_after=at - timedelta(minutes=5))
    (order,) = done.orders
    assert order.order_id == "T-1"
    assert order.currency == "USD"
    assert order.canonical_status is OrderStatus.UNSHIPPED
    assert order.status == "paid"
    assert order.purchased_at == at.replace(microsecond=at.microsecond // 1000 * 1000)
    (line,) = order.lines
    assert (line.sku, line.quantity) == ("BHD-CARPET-RED", 200)
    assert line.unit_price == Money(amount=15550, currency="USD")
    assert order.inr_rate is None  # the core books the rate
    sent = gop.sent("/alibaba/order/list")[0]
    assert sent["role"] == "seller"
    assert sent["start_page"] == "0"
    assert json.loads(sent["modified_date_start"]) == {
        "date_timestamp": str(int((at - timedelta(minutes=5)).timestamp() * 1000))
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("unpay", OrderStatus.PENDING),
        ("to_be_audited", OrderStatus.PENDING),
        ("undeliver", OrderStatus.UNSHIPPED),
        ("delivering", OrderStatus.SHIPPED),
        ("wait_confirm_receipt", OrderStatus.SHIPPED),
        ("trade_success", OrderStatus.DELIVERED),
        ("trade_close", OrderStatus.CANCELLED),
        ("charge_back", OrderStatus.CANCELLED),
    ],
)
async def test_statuses_map_onto_the_core_states(
    rig: Rig, gop: FakeGop, status: str, expected: OrderStatus
) -> None:
    at = rig.clock.utcnow() - timedelta(minutes=30)
    gop.place_order("T-9", "SKU-1", "3", "10.00", status, at)
    (order,) = (await pull_pass(rig.adapter, updated_after=at - timedelta(minutes=1))).orders
    assert order.canonical_status is expected
    cancelled = order.lines[0].quantity_cancelled
    assert cancelled == (3 if expected is OrderStatus.CANCELLED else 0)


async def test_orders_come_in_pages_and_a_cursor_resumes(rig: Rig, gop: FakeGop) -> None:
    start = rig.clock.utcnow() - timedelta(days=1)
    for n in range(60):
        gop.place_order(f"T-{n:03d}", "SKU-1", "2", "1.00", "paid", start + timedelta(minutes=n))
    first = await rig.adapter.pull_orders(updated_after=start)
    assert len(first.orders) == 50
    assert first.cursor is not None
    assert first.updated_before is None
    rest = await pull_pass(rig.adapter, updated_after=start, cursor=first.cursor)
    seen = [o.order_id for o in (*first.orders, *rest.orders)]
    assert sorted(seen) == [f"T-{n:03d}" for n in range(60)]
    assert rest.updated_before is not None
    # both pages asked for the same window
    windows = {
        (f["modified_date_start"], f["modified_date_end"]) for f in gop.sent("/alibaba/order/list")
    }
    assert len(windows) == 1
