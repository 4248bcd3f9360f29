"""A marketplace that prices in US dollars, for the engine's foreign-currency tests: a real
Adapter subclass (currency USD, full listings and offers), registered in the app's adapter map as
an installed adapter would be. It calls no network; it keeps every payload it received."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel

from odop_sync.adapter_sdk import (
    Adapter,
    Capability,
    ItemResult,
    ItemStatus,
    ListingPayload,
    OfferUpdate,
    OperationLimit,
)

SLUG = "usd-market"


class _Config(BaseModel):
    seller: str


class UsdMarket(Adapter):
    slug = SLUG
    display_name = "USD Market"
    currency = "USD"
    capabilities = frozenset(
        {Capability.CHECK_CONNECTION, Capability.PUSH_LISTINGS, Capability.PUSH_OFFERS}
    )
    config_model = _Config
    limits: ClassVar[dict[str, OperationLimit]] = {
        "push_listings": OperationLimit(rate=1000, burst=1000, max_batch_size=20),
        "push_offers": OperationLimit(rate=1000, burst=1000, max_batch_size=20),
    }
    # What every instance received, in order: ("listing" | "offer", payload).
    received: ClassVar[list[tuple[str, ListingPayload | OfferUpdate]]] = []

    async def check_connection(self) -> None:
        return None

    async def push_listings(self, items: Sequence[ListingPayload]) -> list[ItemResult]:
        self.received.extend(("listing", item) for item in items)
        return [self._accepted(item.sku) for item in items]

    async def push_offers(self, offers: Sequence[OfferUpdate]) -> list[ItemResult]:
        self.received.extend(("offer", offer) for offer in offers)
        return [self._accepted(offer.sku) for offer in offers]

    @staticmethod
    def _accepted(sku: str) -> ItemResult:
        return ItemResult(sku=sku, status=ItemStatus.ACCEPTED, remote_id=f"US-{sku}")

    @classmethod
    def last_prices(cls) -> dict[str, tuple[int, str]]:
        """The newest price each SKU received: (amount in minor units, currency)."""
        out: dict[str, tuple[int, str]] = {}
        for _, payload in cls.received:
            out[payload.sku] = (payload.price.amount, payload.price.currency)
        return out


def register(app: Any) -> type[UsdMarket]:
    """Install the adapter in the app (the account API, the engine and the factory share the
    one map), with nothing received yet."""
    UsdMarket.received = []
    app.state.adapters[SLUG] = UsdMarket
    return UsdMarket
