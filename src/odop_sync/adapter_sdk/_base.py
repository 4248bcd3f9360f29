from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ValidationError

from odop_sync.adapter_sdk._capabilities import Capability
from odop_sync.adapter_sdk._dtos import (
    ItemResult,
    ListingPayload,
    OfferUpdate,
    OrderPage,
    RemoteListingState,
    SalesPeriod,
    SalesRow,
    Shipment,
    SubmissionStatus,
)
from odop_sync.adapter_sdk._errors import AdapterConfigError, CapabilityNotSupportedError
from odop_sync.adapter_sdk._images import ImageSource
from odop_sync.adapter_sdk._ratelimit import RateLimiter

__all__ = ["Adapter", "CredentialsChanged", "OperationLimit"]

# The core's side of a credential the marketplace replaced (a rotated refresh token, a one-time
# authorisation code used up): called with the config fields that changed, by name, with their
# new plain values (None: the field is cleared). The core merges them into the account's stored
# credentials, so they survive a restart; the adapter goes on with them meanwhile. It may fail
# (the database is away): the adapter then offers the same changes again after its next call.
CredentialsChanged = Callable[[Mapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class OperationLimit:
    """A marketplace's documented usage plan for one operation.

    `rate` tokens per second refill a bucket of `burst`; `max_batch_size` is how many items one
    call may carry; at `bulk_threshold` items or more the bulk (feed) route is the better one.
    """

    rate: float
    burst: int
    max_batch_size: int = 1
    bulk_threshold: int | None = None

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1 or self.max_batch_size < 1:
            raise ValueError("rate must be > 0, burst and max_batch_size >= 1")


class Adapter(abc.ABC):
    """One marketplace. Constructed per account with its config, an HTTP client and the core's
    rate limiter. Operations not in `capabilities` raise CapabilityNotSupportedError.

    Contract for every batch operation: exactly one result per input, in input order; per-item
    problems are results (REJECTED with issues), never exceptions.
    """

    slug: ClassVar[str]
    display_name: ClassVar[str]
    version: ClassVar[str] = "0.1.0"
    capabilities: ClassVar[frozenset[Capability]]
    config_model: ClassVar[type[BaseModel]]
    limits: ClassVar[Mapping[str, OperationLimit]]
    # The smallest price step the marketplace keeps (Flipkart: whole rupees, 100): a price it
    # reports back is the one sent, rounded down to this, not a drift.
    price_step_paise: ClassVar[int] = 1
    # The currency the marketplace prices in (ISO 4217). An account of a marketplace that does
    # not sell in INR gets its prices (and B2B tier prices) converted by the core at the FX rate
    # in force; every Money an adapter receives is in the account's currency.
    currency: ClassVar[str] = "INR"
    # Whether the marketplace sells by wholesale terms (MOQ, quantity tiers): only then does the
    # core put a product's B2B terms into ListingPayload.b2b (and into its content hash).
    sells_b2b: ClassVar[bool] = False
    # Which entry of `limits` each capability spends (used by the core and the conformance suite).
    operations: ClassVar[Mapping[Capability, str]] = {}
    # Every origin (scheme://host) the adapter calls. Hosts are the adapter's own, never an
    # account's input; an operator may stand a sandbox in for them (settings: marketplace_hosts).
    hosts: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        config: BaseModel | Mapping[str, Any],
        http: httpx.AsyncClient,
        limiter: RateLimiter,
        *,
        images: ImageSource | None = None,
        on_credentials_changed: CredentialsChanged | None = None,
    ) -> None:
        """`images`: the core's reader of image URLs, for marketplaces that take image bytes
        (None: none is offered; URLs go as they are or the adapter says what is missing).
        `on_credentials_changed`: where a credential the marketplace replaced goes (None: it
        lives only as long as this adapter)."""
        self.config = self.parse_config(config)
        self.http = http
        self.limiter = limiter
        self.images = images
        self.on_credentials_changed = on_credentials_changed

    @classmethod
    def parse_config(cls, config: BaseModel | Mapping[str, Any]) -> Any:
        if isinstance(config, cls.config_model):
            return config
        raw = config.model_dump() if isinstance(config, BaseModel) else dict(config)
        try:
            return cls.config_model.model_validate(raw)
        except ValidationError as exc:
            # Pydantic's own text quotes the input values, which may be secrets: name fields only.
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['type']}"
                for err in exc.errors()
            )
            raise AdapterConfigError(
                f"invalid configuration: {problems}", adapter=cls.slug
            ) from None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} slug={self.slug!r} version={self.version!r}>"

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def _unsupported(self, capability: Capability) -> CapabilityNotSupportedError:
        return CapabilityNotSupportedError(
            f"{self.display_name} does not support {capability.value}",
            adapter=self.slug,
            operation=capability.value,
        )

    @abc.abstractmethod
    async def check_connection(self) -> None:
        """Prove the credentials work; raise AuthenticationError or a retryable error if not."""

    async def push_listings(self, items: Sequence[ListingPayload]) -> list[ItemResult]:
        raise self._unsupported(Capability.PUSH_LISTINGS)

    async def push_offers(self, offers: Sequence[OfferUpdate]) -> list[ItemResult]:
        raise self._unsupported(Capability.PUSH_OFFERS)

    async def poll_submissions(self, submission_ids: Sequence[str]) -> list[SubmissionStatus]:
        raise self._unsupported(Capability.POLL_SUBMISSIONS)

    async def fetch_listing_states(self, skus: Sequence[str]) -> list[RemoteListingState]:
        raise self._unsupported(Capability.FETCH_LISTING_STATES)

    async def pull_orders(
        self, cursor: str | None = None, *, updated_after: datetime | None = None
    ) -> OrderPage:
        """One page of orders. `cursor` None starts a new pass over the orders changed after
        `updated_after` (None: the adapter's own default look-back); otherwise it goes on from the
        page that returned it. The core stores the cursor after each page and repeats pages
        freely, so a page may overlap the one before it."""
        raise self._unsupported(Capability.PULL_ORDERS)

    async def pull_sales(self, period: SalesPeriod) -> list[SalesRow]:
        raise self._unsupported(Capability.PULL_SALES)

    async def acknowledge(self, order_id: str) -> None:
        raise self._unsupported(Capability.ORDER_WRITEBACK)

    async def ship(self, order_id: str, shipment: Shipment) -> None:
        raise self._unsupported(Capability.ORDER_WRITEBACK)

    async def cancel(self, order_id: str, reason: str) -> None:
        raise self._unsupported(Capability.ORDER_WRITEBACK)
