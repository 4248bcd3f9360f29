"""AlibabaAdapter: the Alibaba.com (ICBU) seller Open Platform through the GOP gateway, for B2B
export: one Alibaba.com product per variant, sold by minimum order quantity and USD quantity
tiers under Trade Assurance.

- Content (push_listings, one product a call): a product without B2B terms is not offered
  (REJECTED, NEEDS_CATALOG_MAPPING, in plain words). Otherwise its craft picks the category
  (categories.toml), the category's schema says which fields it takes and requires, images go to
  the photobank, and the value document is published: schema/update for a product the core knows
  (`remote_id`), else, after looking for one already published under the same model number
  (a retry after a crash), schema/update for that one or schema/add. Then stock is set and the
  product put on the shelf, or off it when there is none to sell.
- Offers (push_offers): stock only (inventory get + update) and the shelf (display on when
  there is stock, off at 0). Alibaba.com's prices are the B2B tiers, sent with the content.
- States: product get for the SKUs whose product id is known, the product list (30 a page,
  matched by model number) for the others.
- Orders: Trade Assurance order list (changed in the pass's window, 0-based pages) and get for
  each; amounts in USD, the core books the INR rate.

Limits are not documented anywhere (§6): the ones below are the project's (contract, I), five
calls a second per operation with bursts of five; ApiCallLimit slows the client down further.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from adapters.alibaba import mapping, orders, wire
from adapters.alibaba.auth import GopAuth
from adapters.alibaba.categories import CategoryMap, load_categories
from adapters.alibaba.gop import Gop
from adapters.alibaba.photos import Photobank
from adapters.alibaba.products import Products, SchemaRefusal
from adapters.alibaba.schema import value_document
from odop_sync.adapter_sdk import (
    Adapter,
    AdapterConfigError,
    Capability,
    CredentialsChanged,
    ImageSource,
    ItemIssue,
    ItemResult,
    ItemStatus,
    ListingPayload,
    OfferUpdate,
    OperationLimit,
    OrderPage,
    PullCursor,
    RateLimiter,
    RemoteListingState,
)

log = logging.getLogger("adapters.alibaba")

VERSION = "0.1.0"


class AlibabaConfig(BaseModel):
    """An ISV app (app key and secret from the Alibaba.com Open Platform console) and one
    seller's authorisation of it: the refresh token, or the authorisation code the consent page
    redirected with (exchanged once, then the refresh token is kept)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    app_key: str = Field(min_length=1, description="the app's App Key")
    app_secret: SecretStr = Field(description="the app's App Secret")
    refresh_token: SecretStr | None = Field(default=None, description="the seller's refresh token")
    authorization_code: SecretStr | None = Field(
        default=None, description="the code from the seller's consent (valid about 30 minutes)"
    )
    language: Literal["en_US", "zh", "zh_TW"] = "en_US"

    @model_validator(mode="after")
    def _one_grant(self) -> AlibabaConfig:
        grants = (self.refresh_token, self.authorization_code)
        if not any(g is not None and g.get_secret_value() for g in grants):
            raise ValueError("a refresh_token or an authorization_code is required")
        return self


def _limit(batch: int = 1) -> OperationLimit:
    return OperationLimit(rate=5.0, burst=5, max_batch_size=batch)


class AlibabaAdapter(Adapter):
    slug: ClassVar[str] = "alibaba"
    display_name: ClassVar[str] = "Alibaba.com"
    version: ClassVar[str] = VERSION
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.CHECK_CONNECTION,
            Capability.PUSH_LISTINGS,
            Capability.PUSH_OFFERS,
            Capability.FETCH_LISTING_STATES,
            Capability.PULL_ORDERS,
        }
    )
    config_model: ClassVar[type[BaseModel]] = AlibabaConfig
    hosts: ClassVar[tuple[str, ...]] = (wire.ORIGIN,)
    currency: ClassVar[str] = "USD"
    sells_b2b: ClassVar[bool] = True
    # Operation names are the operationIds of icbu-gop.openapi.json.
    limits: ClassVar[Mapping[str, OperationLimit]] = {
        # Every call, whatever its operation: the gateway's limit is one per app and seller.
        wire.GATEWAY: _limit(),
        "tokenCreate": _limit(),
        "tokenRefresh": _limit(),
        "productList": _limit(wire.PRODUCT_PAGE_SIZE),
        "productGet": _limit(),
        "productSchemaGet": _limit(),
        "productSchemaAdd": _limit(),
        "productSchemaUpdate": _limit(),
        "productUpdateDisplay": _limit(wire.DISPLAY_IDS_PER_CALL),
        "productInventoryGet": _limit(),
        "productInventoryUpdate": _limit(),
        "photobankUpload": _limit(),
        "orderList": _limit(wire.ORDER_PAGE_SIZE),
        "orderGet": _limit(),
    }
    operations: ClassVar[Mapping[Capability, str]] = {
        Capability.CHECK_CONNECTION: "productList",
        Capability.PUSH_LISTINGS: "productSchemaAdd",
        # Offers are stock and shelf: one display call carries up to 20 products.
        Capability.PUSH_OFFERS: "productUpdateDisplay",
        Capability.FETCH_LISTING_STATES: "productList",
        Capability.PULL_ORDERS: "orderList",
    }

    config: AlibabaConfig

    def __init__(
        self,
        config: BaseModel | Mapping[str, Any],
        http: httpx.AsyncClient,
        limiter: RateLimiter,
        *,
        images: ImageSource | None = None,
        on_credentials_changed: CredentialsChanged | None = None,
    ) -> None:
        super().__init__(
            config, http, limiter, images=images, on_credentials_changed=on_credentials_changed
        )
        self.auth = GopAuth(
            app_key=self.config.app_key,
            app_secret=self.config.app_secret,
            refresh_token=self.config.refresh_token,
            authorization_code=self.config.authorization_code,
            partner_id=f"odop-sync-{VERSION}",
            clock=limiter.clock,
            # Read at each change: the core may hand its listener over after construction.
            listener=lambda: self.on_credentials_changed,
            adapter=self.slug,
        )
        self.gop = Gop(http, limiter, self.auth, self.slug)
        self.products = Products(self.gop, self.config.language)
        self.photobank = Photobank(self.gop, lambda: self.images)
        try:
            self.categories: CategoryMap = load_categories()
        except (OSError, ValueError, KeyError) as exc:
            raise AdapterConfigError(
                f"the Alibaba.com category map cannot be read ({type(exc).__name__})",
                adapter=self.slug,
            ) from None

    async def check_connection(self) -> None:
        await self.gop.call(
            wire.PRODUCT_LIST, {"current_page": 1, "page_size": 1}, wire.ProductListAnswer
        )

    # content ------------------------------------------------------------------------------

    async def push_listings(self, items: Sequence[ListingPayload]) -> list[ItemResult]:
        return [await self._push_one(item) for item in items]

    async def _push_one(self, item: ListingPayload) -> ItemResult:
        if item.b2b is None:
            return mapping.not_b2b(item.sku)
        category = self.categories.choose(item, item.marketplace_attributes.get("category"))
        if category is None:
            return mapping.no_category(item)
        schema = await self.products.schema(category.cat_id)
        if isinstance(schema, SchemaRefusal):
            advice = (
                f"Alibaba.com would not take products in category {category.cat_id} "
                f"({category.name}): {_joined(schema.problems)}; correct alibaba/categories.toml"
            )
            return mapping.rejected(
                item.sku, [mapping.issue(item.sku, "craft", advice, "CATEGORY")]
            )
        photos = await self.photobank.photos(item.sku, item.images)
        built = mapping.build(item, category, self.categories, schema, photos.urls)
        issues = photos.issues + built.issues
        if not built.ok:
            return mapping.rejected(item.sku, issues)
        product_id = _plain_id(item.remote_id) or self.products.ids.get(item.sku)
        if product_id is None:
            product_id = await self.products.find(item.sku, mapping.subject_of(item, schema))
        xml = value_document(schema, built.values)
        answer = await self.products.publish(category.cat_id, product_id, xml)
        if not answer.ok:
            issues += mapping.marketplace_issues(item.sku, answer.problems(), schema)
            return mapping.rejected(item.sku, issues)
        product_id = answer.product_id or product_id
        if product_id is None:
            raise self.gop.unreadable(wire.OPERATIONS[wire.SCHEMA_ADD])
        self.products.ids[item.sku] = product_id
        shelf = await self._stock_and_shelf({product_id: (item.sku, item.quantity)})
        issues += shelf[item.sku]
        status = ItemStatus.REJECTED if _has_error(issues) else ItemStatus.ACCEPTED
        return ItemResult(
            sku=item.sku, status=status, remote_id=str(product_id), issues=tuple(issues)
        )

    async def _stock_and_shelf(
        self, wanted: Mapping[int, tuple[str, int]]
    ) -> dict[str, list[ItemIssue]]:
        """Stock of each product, then on the shelf with stock, off it without (withdrawn);
        the problems by SKU."""
        issues: dict[str, list[ItemIssue]] = {sku: [] for sku, _ in wanted.values()}
        for product_id, (sku, quantity) in wanted.items():
            problem = await self.products.set_stock(sku, product_id, quantity)
            if problem is not None:
                issues[sku].append(problem)
        refused = await self.products.display({pid: q > 0 for pid, (_, q) in wanted.items()})
        for product_id, reason in refused.items():
            sku, quantity = wanted[product_id]
            shelf = "online" if quantity > 0 else "offline"
            advice = f"Alibaba.com would not take the product {shelf} ({reason})"
            issues[sku].append(mapping.issue(sku, "stock", advice, "DISPLAY"))
        return issues

    # offers -------------------------------------------------------------------------------

    async def push_offers(self, offers: Sequence[OfferUpdate]) -> list[ItemResult]:
        ids = await self._ids_of([(o.sku, o.remote_id) for o in offers])
        results: dict[int, ItemResult] = {}
        wanted: dict[int, tuple[str, int]] = {}
        for n, offer in enumerate(offers):
            product_id = ids.get(offer.sku)
            if product_id is None:
                advice = (
                    "it is not on Alibaba.com yet, so its stock cannot be set; the full listing "
                    "goes first"
                )
                issue = mapping.issue(offer.sku, "listing", advice, "NOT_LISTED")
                results[n] = mapping.rejected(offer.sku, [issue])
            elif offer.quantity is not None:
                wanted[product_id] = (offer.sku, offer.quantity)
        issues = await self._stock_and_shelf(wanted) if wanted else {}
        for n, offer in enumerate(offers):
            if n in results:
                continue
            own = tuple(issues.get(offer.sku, ()))
            status = ItemStatus.REJECTED if _has_error(own) else ItemStatus.ACCEPTED
            remote = str(ids[offer.sku])
            results[n] = ItemResult(sku=offer.sku, status=status, remote_id=remote, issues=own)
        return [results[n] for n in range(len(offers))]

    async def _ids_of(self, wanted: Sequence[tuple[str, str | None]]) -> dict[str, int]:
        """Product ids by SKU: the core's, then this process's, then the product list's."""
        ids: dict[str, int] = {}
        for sku, remote in wanted:
            known = _plain_id(remote) or self.products.ids.get(sku)
            if known is not None:
                ids[sku] = known
        if any(sku not in ids for sku, _ in wanted):
            listed = await self.products.scan()
            for sku, _ in wanted:
                if sku not in ids and sku in listed:
                    ids[sku] = listed[sku].id
        return ids

    # states -------------------------------------------------------------------------------

    async def fetch_listing_states(self, skus: Sequence[str]) -> list[RemoteListingState]:
        found: dict[str, wire.ProductDetail] = {}
        for sku in skus:
            product_id = self.products.ids.get(sku)
            if product_id is not None:
                detail = await self.products.detail(product_id)
                if detail is not None and (detail.red_model in (None, sku)):
                    found[sku] = detail
                else:
                    self.products.ids.pop(sku, None)
        if any(sku not in found for sku in skus):
            listed = await self.products.scan()
            for sku in skus:
                if sku not in found and sku in listed:
                    detail = await self.products.detail(listed[sku].id)
                    if detail is not None:
                        found[sku] = detail
        return [_state(sku, found.get(sku), self.products.ids.get(sku)) for sku in skus]

    # orders -------------------------------------------------------------------------------

    async def pull_orders(
        self, cursor: str | None = None, *, updated_after: datetime | None = None
    ) -> OrderPage:
        """One page of the Trade Assurance orders changed in the pass's window (fixed when the
        pass starts, so its pages stay stable), each read with order get. The cursor's token
        is the next 0-based page."""
        state = PullCursor.resume(
            cursor, updated_after, now=self.limiter.clock.utcnow(), adapter=self.slug
        )
        if state.updated_before is None:
            state = state.model_copy(update={"updated_before": self.limiter.clock.utcnow()})
        until = state.updated_before or self.limiter.clock.utcnow()
        page, size = _page_of(state.token)
        answer = await self.gop.call(
            wire.ORDER_LIST,
            {
                "role": "seller",
                "start_page": page,
                "page_size": wire.ORDER_PAGE_SIZE,
                "modified_date_start": _date_filter(state.updated_after),
                "modified_date_end": _date_filter(until),
            },
            wire.OrderListAnswer,
        )
        listed = answer.value.order_list
        if size is None:
            # Pages are counted in the gateway's page size: one it serves smaller than asked
            # (a cap of its own) is the size of every later page.
            size = len(listed) if 0 < len(listed) < wire.ORDER_PAGE_SIZE else wire.ORDER_PAGE_SIZE
        found = []
        for summary in listed:
            got = await self.gop.call(
                wire.ORDER_GET,
                {"e_trade_id": summary.trade_id, "language": "en_US"},
                wire.OrderGetAnswer,
            )
            if got.value is not None:
                found.append(orders.remote_order(got.value, summary))
        more = bool(listed) and (page + 1) * size < answer.value.total_count
        return OrderPage(
            orders=tuple(found),
            cursor=state.next_page(f"{page + 1}:{size}").encode() if more else None,
            updated_before=None if more else until,
        )


def _page_of(token: str | None) -> tuple[int, int | None]:
    """The cursor's token: the next 0-based page and the gateway's page size."""
    if not token:
        return 0, None
    page, _, size = token.partition(":")
    return int(page), int(size) if size.isdigit() and int(size) > 0 else None


def _date_filter(when: datetime) -> str:
    return wire.json_text({"date_timestamp": str(int(when.timestamp() * 1000))})


def _plain_id(remote_id: str | None) -> int | None:
    text = (remote_id or "").strip()
    return int(text) if text.isdigit() else None


def _has_error(issues: Sequence[ItemIssue]) -> bool:
    return any(i.severity == "error" for i in issues)


def _joined(problems: Sequence[tuple[str, str]]) -> str:
    return "; ".join(f"{c}: {m}" if c and m else c or m for c, m in problems) or "no reason given"


def _state(
    sku: str, detail: wire.ProductDetail | None, product_id: int | None
) -> RemoteListingState:
    if detail is None:
        return RemoteListingState(sku=sku, exists=False, status="MISSING")
    shelf = "online" if (detail.display or "").upper() == "Y" else "offline"
    remote = detail.product_id if detail.product_id is not None else product_id
    return RemoteListingState(
        sku=sku,
        exists=True,
        status=f"{detail.status or 'unknown'} ({shelf})",
        remote_id=str(remote) if remote is not None else None,
        # Prices are quantity tiers on Alibaba.com: none of them is the one price the core
        # compares, so none is reported.
        price=None,
        quantity=detail.stock(),
    )


__all__ = ["AlibabaAdapter", "AlibabaConfig"]
