"""FlipkartAdapter: Flipkart Marketplace Seller API v3 (Listings V3) for a self-access seller
application.

- Content: the SKUs of a batch are looked up with getListings (`GET /sellers/listings/v3/{skus}`);
  those Flipkart does not hold yet are created (`POST /sellers/listings/v3`), the others updated
  (`POST /sellers/listings/v3/update`). Looking first, rather than creating and reading the error,
  relies only on what the documents promise (`available` / `unavailable`), and it makes a re-push
  after a crash an update instead of a duplicate.
- Offers: `POST /sellers/listings/v3/update/price` (MRP and selling price) and
  `POST /sellers/listings/v3/update/inventory` (stock at the account's location).
- Every write carries at most 10 SKUs and answers HTTP 200 with one status per SKU; a FAILURE
  there is a REJECTED result with its errors in plain words, a SKU left out of the answer too.
- States: getListings, 10 SKUs a call; `listed_skus()` pages through listing search.
- Orders: Shipment V3 search, `POST /sellers/v3/shipments/filter` once per type (pre-dispatch,
  post-dispatch, cancelled) for the shipments modified since the pass began, then
  `GET` on each `nextPageUrl` while `hasMore`; order items become lines.

Flipkart publishes no rate limits: the limits below are our own, deliberately low (one call a
second per operation, bursts of five); a 429 with Retry-After slows the client down further.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from adapters.flipkart import mapping, wire
from adapters.flipkart.auth import FlipkartAuth
from odop_sync.adapter_sdk import (
    Adapter,
    Capability,
    ItemIssue,
    ItemResult,
    ItemStatus,
    ListingPayload,
    MarketplaceUnavailableError,
    OfferUpdate,
    OperationLimit,
    OrderPage,
    PullCursor,
    RateLimiter,
    RemoteListingState,
    classify_response,
    send,
)

log = logging.getLogger("adapters.flipkart")

MARKETPLACE = "Flipkart"
BATCH = wire.MAX_SKUS_PER_CALL
# One pass of pull_orders runs these shipment searches in turn (the cursor's phase).
ORDER_SEARCHES = ("preDispatch", "postDispatch", "cancelled")
ORDERS_PAGE_SIZE = 20


class FlipkartConfig(BaseModel):
    """One seller's self-access application (Seller Dashboard > Manage Profile > Developer
    Access) and how its listings are fulfilled."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    app_id: str = Field(min_length=1, description="Application ID (the OAuth client_id)")
    app_secret: SecretStr = Field(description="Application Secret")
    location_id: str = Field(
        min_length=1, description="the seller's warehouse (pickup) location id; stock goes there"
    )
    # Flipkart's two documented servers; no host is taken from credentials.
    environment: Literal["production", "sandbox"] = Field(
        default="production", description="production (api.flipkart.net) or Flipkart's sandbox"
    )
    scope: str = wire.DEFAULT_SCOPE
    fulfillment_profile: wire.FulfillmentProfile = "NON_FBF"
    shipping_provider: wire.ShippingProvider = "FLIPKART"
    dispatch_sla_days: int = Field(default=2, ge=1, description="for products held in stock")
    made_to_order_sla_days: int = Field(
        default=7, ge=1, description="for variants with the attribute made_to_order"
    )
    shipping_fee_local: int = Field(default=0, ge=0, description="rupees")
    shipping_fee_zonal: int = Field(default=0, ge=0, description="rupees")
    shipping_fee_national: int = Field(default=0, ge=0, description="rupees")

    def listing_defaults(self) -> mapping.ListingDefaults:
        return mapping.ListingDefaults(
            location_id=self.location_id,
            fulfillment_profile=self.fulfillment_profile,
            shipping_provider=self.shipping_provider,
            dispatch_sla_days=self.dispatch_sla_days,
            made_to_order_sla_days=self.made_to_order_sla_days,
            shipping_fees=(
                self.shipping_fee_local,
                self.shipping_fee_zonal,
                self.shipping_fee_national,
            ),
        )


def _limit(rate: float = 1.0, burst: int = 5, batch: int = BATCH) -> OperationLimit:
    return OperationLimit(rate=rate, burst=burst, max_batch_size=batch)


class FlipkartAdapter(Adapter):
    slug: ClassVar[str] = "flipkart"
    display_name: ClassVar[str] = "Flipkart"
    version: ClassVar[str] = "0.1.0"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.CHECK_CONNECTION,
            Capability.PUSH_LISTINGS,
            Capability.PUSH_OFFERS,
            Capability.FETCH_LISTING_STATES,
            Capability.PULL_ORDERS,
        }
    )
    config_model: ClassVar[type[BaseModel]] = FlipkartConfig
    hosts: ClassVar[tuple[str, ...]] = tuple(wire.SERVERS.values())
    price_step_paise: ClassVar[int] = 100  # int32 rupees (see mapping.whole_rupees)
    # Operation names are the operationIds of the rebuilt OpenAPI file.
    limits: ClassVar[Mapping[str, OperationLimit]] = {
        "createListings": _limit(),
        "updateListings": _limit(),
        "updatePrice": _limit(),
        "updateInventory": _limit(),
        "getListings": _limit(),
        "listingSearch": _limit(rate=0.5, burst=2, batch=1),
        "searchPreDispatchShipmentPost": _limit(batch=1),
        "searchPreDispatchShipmentGet": _limit(batch=1),
    }
    operations: ClassVar[Mapping[Capability, str]] = {
        Capability.CHECK_CONNECTION: "listingSearch",
        Capability.PUSH_LISTINGS: "createListings",
        Capability.PUSH_OFFERS: "updatePrice",
        Capability.FETCH_LISTING_STATES: "getListings",
        Capability.PULL_ORDERS: "searchPreDispatchShipmentPost",
    }

    config: FlipkartConfig

    def __init__(
        self, config: BaseModel | Mapping[str, Any], http: httpx.AsyncClient, limiter: RateLimiter
    ) -> None:
        super().__init__(config, http, limiter)
        self.auth = FlipkartAuth(
            token_url=self._url(wire.TOKEN_PATH),
            app_id=self.config.app_id,
            app_secret=self.config.app_secret,
            scope=self.config.scope,
            clock=limiter.clock,
        )
        self.defaults = self.config.listing_defaults()

    # plumbing -----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return wire.SERVERS[self.config.environment] + path

    async def _send(
        self, operation: str, method: str, path: str, *, json_body: Any = None
    ) -> httpx.Response:
        response = await send(
            self.http,
            self.limiter,
            operation,
            method,
            self._url(path),
            marketplace=MARKETPLACE,
            adapter=self.slug,
            json=json_body,
            auth=self.auth,
        )
        if response.is_success:
            return response
        detail, code = _error_words(response)
        raise classify_response(
            response,
            limiter=self.limiter,
            marketplace=MARKETPLACE,
            adapter=self.slug,
            operation=operation,
            detail=detail,
            code=code,
        )

    def _unreadable(self, operation: str) -> MarketplaceUnavailableError:
        return MarketplaceUnavailableError(
            "Flipkart answered with an unexpected body", adapter=self.slug, operation=operation
        )

    async def _change(
        self, operation: str, path: str, requests: Mapping[str, wire.Wire]
    ) -> dict[str, wire.ListingChangeResponse]:
        """One write call for up to 10 SKUs; the per-SKU statuses of its 200 answer."""
        if not requests:
            return {}
        response = await self._send(operation, "POST", path, json_body=wire.batch(dict(requests)))
        try:
            body = json.loads(response.content)
            if not isinstance(body, dict):
                raise self._unreadable(operation)
            return {
                sku: wire.ListingChangeResponse.model_validate(answer)
                for sku, answer in body.items()
                if sku in requests
            }
        except (ValueError, ValidationError) as exc:  # JSONDecodeError is a ValueError
            raise self._unreadable(operation) from exc

    async def _details(self, skus: Sequence[str]) -> wire.ListingsResponse:
        """getListings for up to 10 SKUs (comma-separated in the path)."""
        path = f"{wire.LISTINGS}/{','.join(quote(s, safe='') for s in skus)}"
        response = await self._send("getListings", "GET", path)
        try:
            return wire.ListingsResponse.model_validate_json(response.content)
        except ValidationError as exc:
            raise self._unreadable("getListings") from exc

    # operations ---------------------------------------------------------------------------

    async def check_connection(self) -> None:
        await self._send(
            "listingSearch",
            "POST",
            f"{wire.LISTINGS}/search",
            json_body=wire.SearchRequest().to_wire(),
        )

    async def listed_skus(self) -> dict[str, str | None]:
        """Every listing of the seller, SKU → FSN, through listing search (500 a page)."""
        found: dict[str, str | None] = {}
        page: str | None = None
        while True:
            body = wire.SearchRequest(page_id=page).to_wire()
            response = await self._send(
                "listingSearch", "POST", f"{wire.LISTINGS}/search", json_body=body
            )
            try:
                answer = wire.SearchResponse.model_validate_json(response.content)
            except ValidationError as exc:
                raise self._unreadable("listingSearch") from exc
            found.update((i.sku_id, i.product_id) for i in answer.items() if i.sku_id)
            if not answer.has_more or not answer.next_page_id:
                return found
            page = answer.next_page_id

    async def push_listings(self, items: Sequence[ListingPayload]) -> list[ItemResult]:
        mapped = [mapping.map_listing(item, self.defaults) for item in items]
        results: dict[int, ItemResult] = {
            n: m.rejected() for n, m in enumerate(mapped) if m.request is None
        }
        sendable = [n for n, m in enumerate(mapped) if m.request is not None]
        for start in range(0, len(sendable), BATCH):
            chunk = [mapped[n] for n in sendable[start : start + BATCH]]
            known = await self._details([m.sku for m in chunk])
            new = {m.sku: m.request for m in chunk if m.sku not in known.available and m.request}
            old = {m.sku: m.request for m in chunk if m.sku in known.available and m.request}
            answers = await self._change("createListings", wire.LISTINGS, new)
            answers |= await self._change("updateListings", f"{wire.LISTINGS}/update", old)
            for n, m in zip(sendable[start : start + BATCH], chunk, strict=True):
                fsn = getattr(m.request, "product_id", None)
                results[n] = mapping.change_result(
                    m.sku, answers.get(m.sku), remote_id=fsn, issues=m.issues
                )
        return [results[n] for n in range(len(items))]

    async def push_offers(self, offers: Sequence[OfferUpdate]) -> list[ItemResult]:
        fsns, missing = await self._offer_fsns(offers)
        results: dict[int, ItemResult] = {}
        # (input index, price request, inventory request or None) per SKU that can go out
        sendable: list[tuple[int, mapping.Mapped, mapping.Mapped | None]] = []
        for n, offer in enumerate(offers):
            if offer.sku in missing:
                issues = (missing[offer.sku],)
                results[n] = ItemResult(sku=offer.sku, status=ItemStatus.REJECTED, issues=issues)
                continue
            priced = mapping.map_price(offer, fsns[offer.sku])
            if priced.request is None:
                results[n] = priced.rejected()
                continue
            stock = mapping.map_inventory(offer, fsns[offer.sku], self.defaults)
            sendable.append((n, priced, stock))
        for start in range(0, len(sendable), BATCH):
            chunk = sendable[start : start + BATCH]
            price_answers = await self._change(
                "updatePrice",
                f"{wire.LISTINGS}/update/price",
                {p.sku: p.request for _, p, _ in chunk if p.request},
            )
            stock_answers = await self._change(
                "updateInventory",
                f"{wire.LISTINGS}/update/inventory",
                {s.sku: s.request for _, _, s in chunk if s is not None and s.request},
            )
            for n, priced, stock in chunk:
                fsn = fsns[priced.sku]
                first = mapping.change_result(
                    priced.sku, price_answers.get(priced.sku), remote_id=fsn, issues=priced.issues
                )
                second = (
                    None
                    if stock is None
                    else mapping.change_result(stock.sku, stock_answers.get(stock.sku))
                )
                results[n] = mapping.combine(first, second)
        return [results[n] for n in range(len(offers))]

    async def _offer_fsns(
        self, offers: Sequence[OfferUpdate]
    ) -> tuple[dict[str, str], dict[str, ItemIssue]]:
        """The FSN each offer's calls must name: from the offer (the core sends it), else read
        from the listing on Flipkart; an issue instead where there is none to be had."""
        fsns: dict[str, str] = {}
        missing: dict[str, ItemIssue] = {}
        unknown: list[str] = []
        for offer in offers:
            fsn = mapping.fsn_of(offer.marketplace_attributes)
            issue = mapping.fsn_issue(offer.sku, offer.marketplace_attributes)
            if fsn is None:
                unknown.append(offer.sku)
            elif issue is not None:
                missing[offer.sku] = issue
            else:
                fsns[offer.sku] = fsn
        for start in range(0, len(unknown), BATCH):
            known = await self._details(unknown[start : start + BATCH])
            for sku in unknown[start : start + BATCH]:
                detail = known.available.get(sku)
                if detail is not None:
                    fsns[sku] = detail.product_id
                else:
                    missing[sku] = _not_listed(sku)
        return fsns, missing

    async def fetch_listing_states(self, skus: Sequence[str]) -> list[RemoteListingState]:
        states: list[RemoteListingState] = []
        for start in range(0, len(skus), BATCH):
            chunk = skus[start : start + BATCH]
            known = await self._details(chunk)
            for sku in chunk:
                detail = known.available.get(sku)
                if detail is not None:
                    states.append(mapping.remote_state(sku, detail, self.config.location_id))
                else:
                    status = "INVALID" if sku in known.invalid else "MISSING"
                    states.append(RemoteListingState(sku=sku, exists=False, status=status))
        return states

    # orders -------------------------------------------------------------------------------

    async def pull_orders(
        self, cursor: str | None = None, *, updated_after: datetime | None = None
    ) -> OrderPage:
        """One page of one shipment search; the cursor holds which search (pre-dispatch,
        post-dispatch, cancelled) and its `nextPageUrl`. Flipkart reports no watermark, so
        `updated_before` stays None and the core goes on from the newest change it saw: a
        shipment changed while the pass runs moves past the pages read (the search is sorted
        by modification), and a pass takes far less than the core's overlap."""
        state = PullCursor.resume(
            cursor, updated_after, now=self.limiter.clock.utcnow(), adapter=self.slug
        )
        if state.phase >= len(ORDER_SEARCHES):
            return OrderPage()
        if state.token is None:
            kind = ORDER_SEARCHES[state.phase]
            request = wire.ShipmentSearchRequest(
                filter=wire.ShipmentFilter(
                    type=kind,
                    states=list(wire.FILTER_STATES[kind]),
                    modified_date=wire.DateRange(from_=state.updated_after),
                ),
                pagination=wire.ShipmentPagination(page_size=ORDERS_PAGE_SIZE),
                sort=wire.ShipmentSort(field="modifiedDate", order="asc"),
            )
            response = await self._send(
                "searchPreDispatchShipmentPost",
                "POST",
                wire.SHIPMENTS_FILTER,
                json_body=request.to_wire(),
            )
        else:
            response = await self._send(
                "searchPreDispatchShipmentGet", "GET", _next_page_path(state.token)
            )
        try:
            page = wire.ShipmentSearchResponse.model_validate_json(response.content)
        except ValidationError as exc:
            raise self._unreadable("searchPreDispatchShipmentPost") from exc
        if page.has_more and page.next_page_url:
            following: PullCursor | None = state.next_page(page.next_page_url)
        else:
            following = state.next_phase()
            if following.phase >= len(ORDER_SEARCHES):
                following = None
        return OrderPage(
            orders=tuple(mapping.remote_orders(page.shipments)),
            cursor=following.encode() if following else None,
        )


def _next_page_path(next_page_url: str) -> str:
    """The path and query of a `nextPageUrl`, always sent to the account's own endpoint (a URL
    in a response never picks the host our token goes to). Flipkart's docs write the paths both
    with and without the /sellers prefix."""
    parts = urlsplit(next_page_url)
    path = parts.path if parts.path.startswith("/sellers/") else "/sellers" + parts.path
    return f"{path}?{parts.query}" if parts.query else path


def _not_listed(sku: str) -> ItemIssue:
    return ItemIssue(
        code="NOT_LISTED",
        field="listing",
        message=f"field listing of SKU {sku}: it is not listed on Flipkart yet, so price and "
        "stock cannot be set; the full listing goes first",
    )


def _error_words(response: httpx.Response) -> tuple[str | None, str | None]:
    """The marketplace's own words from a refused call's body (never header values)."""
    try:
        body = wire.ErrorBody.model_validate_json(response.content)
    except (ValidationError, ValueError):
        return None, None
    if body.errors:
        return body.errors[0].description or None, str(body.errors[0].code)
    return body.error_description or body.error, body.error
