from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import respx
from adapters.alibaba.adapter import AlibabaAdapter, AlibabaConfig
from pydantic import SecretStr

from odop_sync.adapter_sdk import (
    B2BTerms,
    LeadTime,
    ListingPayload,
    Money,
    PriceTier,
    RateLimiter,
    create_http_client,
)
from odop_sync.adapter_sdk.testing import sample_listing
from tests.adapters.alibaba.fake_gop import APP_KEY, APP_SECRET, REFRESH, FakeClock, FakeGop, mount

PHOTO = "https://sc04.alicdn.com/kf/Hcarpet.jpg"


def usd(amount: str) -> Money:
    return Money.from_decimal(Decimal(amount), "USD")


def terms(**overrides: Any) -> B2BTerms:
    values: dict[str, Any] = {
        "moq": 2,
        "moq_unit": "piece",
        "price_tiers": (
            PriceTier(min_quantity=2, max_quantity=49, price=usd("185.00")),
            PriceTier(min_quantity=50, max_quantity=199, price=usd("170.00")),
            PriceTier(min_quantity=200, price=usd("155.50")),
        ),
        "supply_per_month": 400,
        "lead_times": (LeadTime(max_quantity=50, days=20), LeadTime(days=45)),
        "port_of_loading": "Nhava Sheva (Mumbai)",
        "payment_terms": ("TT", "LC"),
    }
    values.update(overrides)
    return B2BTerms(**values)


def carpet(sku: str = "BHD-CARPET-RED", **overrides: Any) -> ListingPayload:
    """The SDK's sample carpet with wholesale terms and an image already on Alibaba.com."""
    overrides.setdefault("b2b", terms())
    overrides.setdefault("images", (PHOTO,))
    overrides.setdefault("craft", "Hand-knotted carpet")
    overrides.setdefault("price", usd("185.00"))
    overrides.setdefault("mrp", usd("185.00"))
    return sample_listing(sku, **overrides)


def config(**overrides: Any) -> AlibabaConfig:
    values: dict[str, Any] = {
        "app_key": APP_KEY,
        "app_secret": SecretStr(APP_SECRET),
        "refresh_token": SecretStr(REFRESH),
    }
    values.update(overrides)
    return AlibabaConfig(**values)


@dataclass
class Rig:
    gop: FakeGop
    clock: FakeClock
    adapter: AlibabaAdapter


@pytest.fixture
def gop() -> FakeGop:
    return FakeGop()


@pytest.fixture
def router(gop: FakeGop) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        mount(mock, gop)
        yield mock


@pytest.fixture
async def rig(gop: FakeGop, router: respx.MockRouter) -> AsyncIterator[Rig]:
    async with make_rig(gop) as made:
        yield made


class make_rig:  # noqa: N801 - used like a function
    def __init__(self, gop: FakeGop, **kw: Any) -> None:
        self.gop = gop
        self.cfg = kw.pop("config", None) or config()
        self.kw = kw

    async def __aenter__(self) -> Rig:
        self.clock = FakeClock()
        self.http = create_http_client(adapter_slug="alibaba")
        limiter = RateLimiter(AlibabaAdapter.limits, clock=self.clock)
        adapter = AlibabaAdapter(self.cfg, self.http, limiter, **self.kw)
        return Rig(self.gop, self.clock, adapter)

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()
