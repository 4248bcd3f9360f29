"""AmazonAdapter: Selling Partner API for Amazon.in.

Route by size: fewer than `bulk_threshold` items go through the Listings Items API, one call per
SKU (putListingsItem for content, patchListingsItem for offers); larger sets go through one
JSON_LISTINGS_FEED per 25,000 messages (createFeedDocument → upload to the presigned URL →
createFeed), resolved later by poll_submissions (getFeed → getFeedDocument → processing report).
Listing states are read back with searchListingsItems, up to 20 SKUs a call.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from adapters.amazon import mapping, regions, wire
from adapters.amazon.auth import LwaAuth
from adapters.amazon.product_types import ProductTypeMap, load_product_types
from odop_sync.adapter_sdk import (
    Adapter,
    AdapterConfigError,
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
    SubmissionState,
    SubmissionStatus,
    classify_response,
    send,
)

log = logging.getLogger("adapters.amazon")

T = TypeVar("T")
R = TypeVar("R")
W = TypeVar("W", bound=BaseModel)

LISTINGS = f"/listings/{wire.LISTINGS_API_VERSION}/items"
FEEDS = f"/feeds/{wire.FEEDS_API_VERSION}"
ORDERS = f"/orders/{wire.ORDERS_API_VERSION}/orders"
ORDERS_PAGE_SIZE = 100  # searchOrders maxResultsPerPage: 1 to 100
# How many item calls may be in flight at once; the rate limiter does the real pacing.
ITEM_CONCURRENCY = 4
# searchListingsItems: `identifiers` takes at most 20 (maxItems) and a page at most 20 items
# (pageSize maximum), so one call reads back up to 20 SKUs.
SEARCH_SKUS = 20
# What a listing's state is read from (remote_state); the rest of an item is not needed.
STATE_DATA = "summaries,offers,fulfillmentAvailability,issues"
# What putListingsItem and patchListingsItem answer with (`includedData`, default `issues`).
# Not `identifiers`: the model allows it only with mode=VALIDATION_PREVIEW, and a real
# submission is only accepted for processing, with no ASIN yet. The ASIN comes with the feed
# report's summaries (mapping.REPORT_DATA) and with every read-back (summaries).
SUBMIT_DATA = "issues"


class AmazonConfig(BaseModel):
    """One seller account (Seller Central merchant token) authorised for our SP-API app."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seller_id: str = Field(min_length=1, description="merchant token, e.g. A1B2C3D4E5F6G7")
    # The marketplace chooses the SP-API endpoint (India: the EU endpoint); no host is taken
    # from credentials.
    marketplace_id: str = Field(
        default=mapping.AMAZON_IN,
        description="an Amazon marketplace id (A21TJRUUN4KGV is Amazon.in)",
    )
    lwa_client_id: str = Field(min_length=1)
    lwa_client_secret: SecretStr
    refresh_token: SecretStr
    issue_locale: str = mapping.LANGUAGE_EN_IN
    # Sandbox and demo accounts only: the demo catalog's images are served by odop-sync itself
    # over plain http on loopback. Amazon itself fetches images over https only.
    allow_http_images: bool = False

    @field_validator("marketplace_id")
    @classmethod
    def _known_marketplace(cls, value: str) -> str:
        if value not in regions.MARKETPLACES:
            raise ValueError("not an Amazon marketplace id")
        return value


class AmazonAdapter(Adapter):
    slug: ClassVar[str] = "amazon"
    display_name: ClassVar[str] = "Amazon.in"
    version: ClassVar[str] = "0.1.0"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.CHECK_CONNECTION,
            Capability.PUSH_LISTINGS,
            Capability.PUSH_OFFERS,
            Capability.POLL_SUBMISSIONS,
            Capability.FETCH_LISTING_STATES,
            Capability.BULK_FEED,
            Capability.PULL_ORDERS,
        }
    )
    config_model: ClassVar[type[BaseModel]] = AmazonConfig
    hosts: ClassVar[tuple[str, ...]] = regions.HOSTS
    # Default usage plans from the API models' descriptions (listingsItems_2021-08-01.json,
    # feeds_2021-06-30.json); x-amzn-RateLimit-Limit may raise them per seller at runtime.
    # The bulk threshold: 50 putListingsItem calls take ~10 s at 5 rps, about what a feed needs
    # to reach IN_PROGRESS, and above that one feed beats N calls.
    limits: ClassVar[Mapping[str, OperationLimit]] = {
        "putListingsItem": OperationLimit(rate=5, burst=10, max_batch_size=1, bulk_threshold=50),
        "patchListingsItem": OperationLimit(rate=5, burst=5, max_batch_size=1, bulk_threshold=50),
        # Not called since listing states are searched, 20 SKUs a call; the sandbox still
        # serves getListingsItem with this plan.
        "getListingsItem": OperationLimit(rate=5, burst=10),
        "deleteListingsItem": OperationLimit(rate=5, burst=5),
        # Documented: rate 5, burst 5. One token of the burst stays unused: Amazon counts calls
        # as they arrive, and a call that leaves late (the first of a pass waits for its LWA
        # token after taking its rate token, the network delays one more than the next) lets
        # the next ones arrive closer together than they left. With a burst of 4 at 5/s the
        # arrivals stay inside Amazon's 5 for up to 200 ms of such delay.
        "searchListingsItems": OperationLimit(rate=5, burst=4),
        # listings-feed-schema-v2: messages maxItems 25000.
        "createFeed": OperationLimit(rate=0.0083, burst=15, max_batch_size=25_000),
        "getFeed": OperationLimit(rate=2, burst=15),
        "createFeedDocument": OperationLimit(rate=0.5, burst=15),
        "getFeedDocument": OperationLimit(rate=0.0222, burst=10),
        # orders_2026-01-01.json, searchOrders usage plan: one page every 180 s after a burst.
        "searchOrders": OperationLimit(rate=0.0056, burst=20),
    }
    operations: ClassVar[Mapping[Capability, str]] = {
        Capability.CHECK_CONNECTION: "searchListingsItems",
        Capability.PUSH_LISTINGS: "putListingsItem",
        Capability.PUSH_OFFERS: "patchListingsItem",
        Capability.FETCH_LISTING_STATES: "searchListingsItems",
        Capability.POLL_SUBMISSIONS: "getFeed",
        Capability.BULK_FEED: "createFeed",
        Capability.PULL_ORDERS: "searchOrders",
    }

    config: AmazonConfig

    def __init__(
        self, config: BaseModel | Mapping[str, Any], http: httpx.AsyncClient, limiter: RateLimiter
    ) -> None:
        super().__init__(config, http, limiter)
        self.auth = LwaAuth(
            token_url=regions.LWA_TOKEN_URL,
            client_id=self.config.lwa_client_id,
            client_secret=self.config.lwa_client_secret,
            refresh_token=self.config.refresh_token,
            clock=limiter.clock,
        )
        try:
            self.product_types: ProductTypeMap = load_product_types()
        except (OSError, ValueError, KeyError) as exc:  # tomllib.TOMLDecodeError is a ValueError
            raise AdapterConfigError(
                f"product type map unreadable: {exc}", adapter=self.slug
            ) from exc
        # messageId → SKU per feed we created; the report also names SKUs, this fills gaps.
        self._feed_skus: dict[str, dict[int, str]] = {}

    # plumbing -----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return regions.endpoint_for(self.config.marketplace_id) + path

    def _parse(self, model: type[W], response: httpx.Response, operation: str) -> W:
        """A 2xx body as its documented model; anything else is the marketplace misbehaving."""
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise MarketplaceUnavailableError(
                f"Amazon answered {operation} with an unexpected body",
                adapter=self.slug,
                operation=operation,
            ) from exc

    def _items_path(self) -> str:
        """The seller's listings items (searchListingsItems)."""
        return f"{LISTINGS}/{quote(self.config.seller_id, safe='')}"

    def _sku_path(self, sku: str) -> str:
        # SKUs may hold characters that must be percent-encoded in the path (SP-API URL encoding).
        return f"{self._items_path()}/{quote(sku, safe='')}"

    async def _send(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        signed: bool = True,
        allow: tuple[int, ...] = (),
    ) -> httpx.Response:
        response = await send(
            self.http,
            self.limiter,
            operation,
            method,
            url,
            marketplace="Amazon",
            adapter=self.slug,
            params=params,
            json=json_body,
            content=content,
            headers=headers,
            auth=self.auth if signed else None,
        )
        if response.is_success or response.status_code in allow:
            return response
        errors = _error_list(response)
        first = errors.errors[0] if errors and errors.errors else None
        raise classify_response(
            response,
            limiter=self.limiter,
            marketplace="Amazon",
            adapter=self.slug,
            operation=operation,
            detail=first.message if first and first.message else None,
            code=first.code if first else None,
        )

    async def _each(self, items: Sequence[T], call: Callable[[T], Awaitable[R]]) -> list[R]:
        """Run `call` per item with bounded concurrency; results in input order. The first
        AdapterError cancels the rest and propagates (the core retries the batch; pushes are
        idempotent)."""
        gate = asyncio.Semaphore(ITEM_CONCURRENCY)

        async def one(item: T) -> R:
            async with gate:
                return await call(item)

        tasks = [asyncio.ensure_future(one(i)) for i in items]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def _bulk(self, operation: str, n: int) -> bool:
        threshold = self.limits[operation].bulk_threshold
        return threshold is not None and n >= threshold

    # operations ---------------------------------------------------------------------------

    async def check_connection(self) -> None:
        await self._send(
            "searchListingsItems",
            "GET",
            self._url(self._items_path()),
            params={"marketplaceIds": self.config.marketplace_id, "pageSize": 1},
        )

    async def push_listings(self, items: Sequence[ListingPayload]) -> list[ItemResult]:
        mapped = [
            mapping.map_listing(
                i,
                self.product_types,
                self.config.marketplace_id,
                allow_http_images=self.config.allow_http_images,
            )
            for i in items
        ]
        if self._bulk("putListingsItem", len(items)):
            return await self._submit_feed([(m.sku, m.issues, m.feed_message) for m in mapped])
        return await self._each(mapped, self._put_one)

    async def _put_one(self, listing: mapping.MappedListing) -> ItemResult:
        if listing.issues:
            return ItemResult(sku=listing.sku, status=ItemStatus.REJECTED, issues=listing.issues)
        return await self._submit_item(
            "putListingsItem", "PUT", listing.sku, listing.put_request().to_wire()
        )

    async def push_offers(self, offers: Sequence[OfferUpdate]) -> list[ItemResult]:
        mp = self.config.marketplace_id
        if self._bulk("patchListingsItem", len(offers)):
            return await self._submit_feed(
                [(o.sku, tuple(mapping.offer_issues(o)), _offer_message(o, mp)) for o in offers]
            )
        return await self._each(offers, self._patch_one)

    async def _patch_one(self, offer: OfferUpdate) -> ItemResult:
        issues = mapping.offer_issues(offer)
        if issues:
            return ItemResult(sku=offer.sku, status=ItemStatus.REJECTED, issues=tuple(issues))
        body = mapping.offer_patch_request(offer, self.config.marketplace_id).to_wire()
        return await self._submit_item("patchListingsItem", "PATCH", offer.sku, body)

    async def _submit_item(
        self, operation: str, method: str, sku: str, body: dict[str, Any]
    ) -> ItemResult:
        response = await self._send(
            operation,
            method,
            self._url(self._sku_path(sku)),
            params={
                "marketplaceIds": self.config.marketplace_id,
                "includedData": SUBMIT_DATA,
                "issueLocale": self.config.issue_locale,
            },
            json_body=body,
            allow=(400, 413),  # per-item refusals are results, not exceptions
        )
        if response.status_code in (400, 413):
            issue = mapping.issue_from_errors(sku, _error_list(response), response.status_code)
            return ItemResult(sku=sku, status=ItemStatus.REJECTED, issues=(issue,))
        result = self._parse(wire.ListingsItemSubmissionResponse, response, operation)
        issues = tuple(mapping.issue_from_listings(sku, i) for i in result.issues)
        status = ItemStatus.ACCEPTED if result.status == "ACCEPTED" else ItemStatus.REJECTED
        return ItemResult(
            sku=sku,
            status=status,
            submission_id=result.submission_id,
            remote_id=mapping.marketplace_asin(result.identifiers, self.config.marketplace_id),
            issues=issues,
        )

    # feeds --------------------------------------------------------------------------------

    async def _submit_feed(
        self,
        entries: Sequence[tuple[str, tuple[ItemIssue, ...], Callable[[int], wire.FeedMessage]]],
    ) -> list[ItemResult]:
        results: list[ItemResult | None] = [None] * len(entries)
        sendable: list[int] = []
        for index, (sku, issues, _) in enumerate(entries):
            if issues:
                results[index] = ItemResult(sku=sku, status=ItemStatus.REJECTED, issues=issues)
            else:
                sendable.append(index)
        size = self.limits["createFeed"].max_batch_size
        for start in range(0, len(sendable), size):
            chunk = sendable[start : start + size]
            messages = [entries[i][2](n) for n, i in enumerate(chunk, start=1)]
            feed_id = await self._create_feed(messages)
            self._feed_skus[feed_id] = {m.message_id: m.sku for m in messages}
            for i in chunk:
                results[i] = ItemResult(
                    sku=entries[i][0], status=ItemStatus.SUBMITTED, submission_id=feed_id
                )
        return [r for r in results if r is not None]

    async def _create_feed(self, messages: Sequence[wire.FeedMessage]) -> str:
        document = mapping.listings_feed(
            self.config.seller_id, messages, issue_locale=self.config.issue_locale
        ).to_wire()
        spec = wire.CreateFeedDocumentSpecification(content_type=wire.FEED_CONTENT_TYPE)
        created = await self._send(
            "createFeedDocument", "POST", self._url(f"{FEEDS}/documents"), json_body=spec.to_wire()
        )
        target = wire.CreateFeedDocumentResponse.model_validate_json(created.content)
        # The upload URL is presigned: no LWA token, and the Content-Type must match the spec.
        await self._send(
            "uploadFeedDocument",
            "PUT",
            target.url,
            content=orjson.dumps(document),  # UTF-8 bytes at once, no str copy first
            headers={"Content-Type": wire.FEED_CONTENT_TYPE},
            signed=False,
        )
        feed = wire.CreateFeedSpecification(
            feed_type=wire.JSON_LISTINGS_FEED,
            marketplace_ids=[self.config.marketplace_id],
            input_feed_document_id=target.feed_document_id,
        )
        response = await self._send(
            "createFeed", "POST", self._url(f"{FEEDS}/feeds"), json_body=feed.to_wire()
        )
        feed_id = wire.CreateFeedResponse.model_validate_json(response.content).feed_id
        log.info("created %s %s with %d messages", wire.JSON_LISTINGS_FEED, feed_id, len(messages))
        return feed_id

    async def poll_submissions(self, submission_ids: Sequence[str]) -> list[SubmissionStatus]:
        return [await self._poll_one(feed_id) for feed_id in submission_ids]

    async def _poll_one(self, feed_id: str) -> SubmissionStatus:
        response = await self._send(
            "getFeed", "GET", self._url(f"{FEEDS}/feeds/{quote(feed_id, safe='')}")
        )
        feed = wire.Feed.model_validate_json(response.content)
        if feed.processing_status in ("IN_QUEUE", "IN_PROGRESS"):
            return SubmissionStatus(submission_id=feed_id, state=SubmissionState.PENDING)
        report = (
            await self._fetch_report(feed.result_feed_document_id)
            if feed.result_feed_document_id
            else None
        )
        if feed.processing_status == "DONE" and report is not None:
            return SubmissionStatus(
                submission_id=feed_id,
                state=SubmissionState.DONE,
                results=tuple(self._results_from_report(feed_id, report)),
            )
        detail = f"feed {feed.processing_status.lower()}"
        failed = tuple(
            ItemResult(
                sku=sku,
                status=ItemStatus.REJECTED,
                submission_id=feed_id,
                issues=(
                    ItemIssue(
                        code=f"FEED_{feed.processing_status}",
                        field="listing",
                        message=f"field listing of SKU {sku}: Amazon did not process the feed "
                        f"({feed.processing_status}); push again",
                    ),
                ),
            )
            for sku in self._feed_skus.get(feed_id, {}).values()
        )
        results = self._results_from_report(feed_id, report) if report else list(failed)
        return SubmissionStatus(
            submission_id=feed_id,
            state=SubmissionState.FAILED,
            results=tuple(results),
            detail=detail,
        )

    async def _fetch_report(self, document_id: str) -> wire.ProcessingReport:
        response = await self._send(
            "getFeedDocument",
            "GET",
            self._url(f"{FEEDS}/documents/{quote(document_id, safe='')}"),
        )
        document = wire.FeedDocument.model_validate_json(response.content)
        download = await self._send("downloadFeedDocument", "GET", document.url, signed=False)
        body = download.content
        if document.compression_algorithm == "GZIP":
            body = gzip.decompress(body)
        try:
            return wire.ProcessingReport.model_validate_json(body)
        except ValidationError as exc:
            raise MarketplaceUnavailableError(
                "the processing report could not be read",
                adapter=self.slug,
                operation="getFeedDocument",
            ) from exc

    def _results_from_report(self, feed_id: str, report: wire.ProcessingReport) -> list[ItemResult]:
        order: dict[str, None] = {}
        by_message = dict(self._feed_skus.get(feed_id, {}))
        for sku in by_message.values():
            order[sku] = None
        issues: dict[str, list[ItemIssue]] = {}
        asins: dict[str, str] = {}
        for issue in report.issues:
            owner = issue.sku or (by_message.get(issue.message_id) if issue.message_id else None)
            if owner is None:
                continue  # a feed-level issue (formatting); nothing to pin on one SKU
            order.setdefault(owner, None)
            issues.setdefault(owner, []).append(mapping.issue_from_report(owner, issue))
        for raw in report.items:
            item = mapping.report_item(raw)
            if item is None:
                continue
            order.setdefault(item.sku, None)
            issues.setdefault(item.sku, []).extend(
                mapping.issue_from_listings(item.sku, i) for i in item.issues
            )
            asin = mapping.summary_asin(item, self.config.marketplace_id)
            if asin:
                asins[item.sku] = asin
        results = []
        for sku in order:
            found = tuple(issues.get(sku, ()))
            rejected = any(i.severity == "error" for i in found)
            results.append(
                ItemResult(
                    sku=sku,
                    status=ItemStatus.REJECTED if rejected else ItemStatus.ACCEPTED,
                    submission_id=feed_id,
                    remote_id=asins.get(sku),
                    issues=found,
                )
            )
        return results

    # states -------------------------------------------------------------------------------

    async def fetch_listing_states(self, skus: Sequence[str]) -> list[RemoteListingState]:
        """One searchListingsItems call per 20 SKUs (identifiersType=SKU), not one
        getListingsItem per SKU: at 5 requests/s that reads 20,000 listings back in about 200 s
        instead of over an hour. A SKU the search does not return is not on Amazon. States
        come back in the order of `skus`."""
        unique = list(dict.fromkeys(skus))
        groups = [unique[i : i + SEARCH_SKUS] for i in range(0, len(unique), SEARCH_SKUS)]
        found: dict[str, RemoteListingState] = {}
        for states in await self._each(groups, self._search_states):
            found.update(states)
        return [
            found.get(sku) or RemoteListingState(sku=sku, exists=False, status="MISSING")
            for sku in skus
        ]

    async def _search_states(self, skus: list[str]) -> dict[str, RemoteListingState]:
        """The states of the listings among `skus` (at most SEARCH_SKUS) that Amazon holds.
        Catalog SKUs never hold a comma, the separator of the `identifiers` list."""
        wanted = set(skus)
        params: dict[str, Any] = {
            "marketplaceIds": self.config.marketplace_id,
            "identifiers": ",".join(skus),
            "identifiersType": "SKU",
            "includedData": STATE_DATA,
            "issueLocale": self.config.issue_locale,
            "pageSize": SEARCH_SKUS,
        }
        url = self._url(self._items_path())
        states: dict[str, RemoteListingState] = {}
        while True:
            response = await self._send("searchListingsItems", "GET", url, params=params)
            page = self._parse(wire.ItemSearchResults, response, "searchListingsItems")
            for item in page.items:
                if item.sku in wanted:
                    states[item.sku] = mapping.remote_state(item, self.config.marketplace_id)
            # 20 identifiers fit one page of 20; a further page is followed all the same, so
            # that no listing is taken for missing because Amazon paged the answer.
            token = page.pagination.next_token if page.pagination else None
            if not token or len(states) == len(wanted):
                return states
            params = {**params, "pageToken": token}

    # orders -------------------------------------------------------------------------------

    async def pull_orders(
        self, cursor: str | None = None, *, updated_after: datetime | None = None
    ) -> OrderPage:
        """One searchOrders page (Orders API 2026-01-01) of the orders changed since
        `updated_after`. Amazon's order data lags about two minutes: it answers with the
        `lastUpdatedBefore` it covered, which later pages of the pass repeat (a moving end
        would shift the pages) and which the core's next pass starts from, minus its overlap."""
        state = PullCursor.resume(
            cursor, updated_after, now=self.limiter.clock.utcnow(), adapter=self.slug
        )
        params: dict[str, Any] = {
            "marketplaceIds": self.config.marketplace_id,
            "lastUpdatedAfter": _iso(state.updated_after),
            "includedData": ",".join(wire.ORDER_DATASETS),
            "maxResultsPerPage": ORDERS_PAGE_SIZE,
        }
        if state.updated_before is not None:
            params["lastUpdatedBefore"] = _iso(state.updated_before)
        if state.token is not None:
            params["paginationToken"] = state.token
        response = await self._send("searchOrders", "GET", self._url(ORDERS), params=params)
        page = self._parse(wire.SearchOrdersResponse, response, "searchOrders")
        before = page.last_updated_before or state.updated_before
        token = page.pagination.next_token if page.pagination else None
        following = (
            state.model_copy(update={"updated_before": before, "token": token}).encode()
            if token
            else None
        )
        return OrderPage(
            orders=tuple(mapping.remote_order(o) for o in page.orders),
            cursor=following,
            updated_before=before,
        )


def _offer_message(offer: OfferUpdate, marketplace_id: str) -> Callable[[int], wire.FeedMessage]:
    def build(message_id: int) -> wire.FeedMessage:
        return mapping.offer_feed_message(offer, message_id, marketplace_id)

    return build


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _error_list(response: httpx.Response) -> wire.ErrorList | None:
    try:
        return wire.ErrorList.model_validate_json(response.content)
    except (ValidationError, ValueError):
        return None
