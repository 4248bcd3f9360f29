from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from adapters.alibaba.adapter import AlibabaAdapter
from adapters.alibaba.sandbox import SANDBOX_SELLER, AlibabaSandbox, demo_credentials

from odop_sync.adapter_sdk import ListingPayload
from odop_sync.adapter_sdk.testing import AdapterConformance, ConformanceEnv, conformance_env
from tests.adapters.alibaba.conftest import carpet, terms, usd

# Marketplace time runs 1000 times faster than the wall clock.
TIME_SCALE = 1000.0


def samples() -> list[ListingPayload]:
    """Three crafts of three categories, with wholesale terms; their images are on no host the
    adapter may fetch (none is offered in the suite), so they go without (images are optional
    in the sandbox's categories)."""
    return [
        carpet("BHD-CARPET-RED", images=("https://img.example.org/bhadohi-carpet.jpg",)),
        carpet(
            "MZP-DURRIE-4X6",
            title="Mirzapur handwoven cotton durrie, 4x6 ft",
            craft="Handwoven durrie",
            material="Cotton",
            hsn_code="570299",
            b2b=terms(moq=10, price_tiers=terms().price_tiers[1:]),
            images=(),
        ),
        carpet(
            "MBD-VASE-8IN",
            title="Moradabad brass vase, 8 inch",
            craft="Brassware",
            material="Brass",
            hsn_code="830629",
            price=usd("12.40"),
            mrp=usd("12.40"),
            b2b=terms(moq_unit="piece", supply_per_month=None, lead_times=()),
            images=(),
        ),
    ]


class TestAlibabaConformance(AdapterConformance):
    """The shared suite against the Alibaba.com sandbox."""

    @pytest.fixture
    def sample_listings(self) -> list[ListingPayload]:
        return samples()

    @pytest.fixture
    async def env(self) -> AsyncIterator[ConformanceEnv]:
        sandbox = AlibabaSandbox(time_scale=TIME_SCALE)
        async with conformance_env(
            AlibabaAdapter,
            demo_credentials(),
            app=sandbox.app,
            sandbox=sandbox,
            account=SANDBOX_SELLER,
        ) as env:
            yield env
