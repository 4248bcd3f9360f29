"""An Amazon SP-API simulator for the operations AmazonAdapter uses, on the real paths:

- `POST /auth/o2/token`: Login with Amazon refresh_token grant; access tokens expire.
- Listings Items 2021-08-01: PUT/PATCH/GET/DELETE `/listings/2021-08-01/items/{sellerId}/{sku}`,
  GET `/listings/2021-08-01/items/{sellerId}` (searchListingsItems: query validated against the
  spec, `identifiers` matched by SKU, `includedData` honoured, pages of `pageSize` up to 20).
- Feeds 2021-06-30: POST `/documents`, POST `/feeds`, GET/DELETE `/feeds/{feedId}`,
  GET `/documents/{id}`; the presigned upload/download URLs are served here too.
- Orders 2026-01-01: GET `/orders/2026-01-01/orders` (searchOrders), query validated against the
  spec, keyset pages with `nextToken`, and Amazon's two-minute lag (`lastUpdatedBefore` must be
  at least two minutes old; without it the answer covers up to two minutes ago).
- `/_sandbox/faults` (fault injection), `/_sandbox/state/{sellerId}` (what it holds) and
  `/_sandbox/orders/{sellerId}` (place, cancel, return orders on demand; see sandbox_orders).

Request bodies are validated against the official models in specs/ (package data); errors come back
as Amazon's `{"errors": [{"code", "message", "details"}]}`; usage plans are enforced per seller
and operation at the documented rate and burst, in marketplace time scaled by `time_scale`;
a listing's required attributes are its product type's as Amazon's definitions give them
(sandbox_definitions: the sandbox's own data, not the adapter's product type map), a missing one
answered with Amazon's issue 90220.
Feeds go IN_QUEUE → IN_PROGRESS → DONE as marketplace time passes (no background task: status is
worked out when asked), and DONE feeds carry a GZIP processing report valid against the report
schema.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import secrets
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response

from adapters.amazon.sandbox_calls import (
    LOAD_KEY,
    OPERATION_KEY,
    CallLoad,
    SpApiHeaders,
    loads_of,
    usage_plans,
)
from adapters.amazon.sandbox_definitions import (
    MISSING_CATEGORY,
    MISSING_CODE,
    ProductTypeDefinitions,
    load_definitions,
    missing_message,
)
from odop_sync.adapter_sdk import QueryValidator
from odop_sync.adapter_sdk.sandbox import (
    SandboxBase,
    SchemaValidator,
    StateStore,
    Throttle,
    TokenBucketGuard,
    fault_admin_router,
    fault_response,
    specs_dir,
)
from odop_sync.adapter_sdk.sandbox_orders import OrderBook, OrderLife, order_admin_router, stamp

# Amazon.in's marketplace id (SP-API "Marketplace IDs": India, A21TJRUUN4KGV); the sandbox's
# own, not the adapter's constant, so a wrong id on the adapter's side is not agreed with.
AMAZON_IN = "A21TJRUUN4KGV"
LISTINGS = "/listings/2021-08-01/items"
ORDERS = "/orders/2026-01-01/orders"
# "Amazon's order data lags about two minutes": lastUpdatedBefore must be that old.
ORDER_DATA_LAG = 120.0
FULFILLMENT_STATUS = {
    "pending": "PENDING",
    "unshipped": "UNSHIPPED",
    "shipped": "SHIPPED",
    "delivered": "SHIPPED",
    "returned": "SHIPPED",
    "cancelled": "CANCELLED",
}
# Demo mode: an order every five marketplace-minutes or so per seller (every 30 s at the demo's
# tenfold time), a tenth of them cancelled within two hours, one in twenty returned later.
DEMO_ORDER_LIFE = OrderLife(orders_per_minute=0.2)
FEEDS = "/feeds/2021-06-30"
MARKETPLACE_CURRENCY = {AMAZON_IN: "INR"}
SANDBOX_SELLER = "A1ODOPSANDBOX"


@dataclass(frozen=True)
class SandboxApp:
    """The LWA application the sandbox knows, and the sellers that authorised it."""

    client_id: str = "amzn1.application-oa2-client.odopsandbox"
    client_secret: str = "sandbox-client-secret-do-not-use"  # noqa: S105 - sandbox only
    refresh_tokens: Mapping[str, str] = field(
        default_factory=lambda: {"Atzr|sandbox-refresh-token": SANDBOX_SELLER}
    )


@dataclass
class _Token:
    seller: str
    expires_at: float


def _errors(
    status: int, code: str, message: str, details: str = "", **headers: str
) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"code": code, "message": message, "details": details}]},
        status_code=status,
        headers={"x-amzn-RequestId": str(uuid.uuid4()), **headers},
    )


def _presigned(request: Request, seller: str, doc_id: str, signature: str) -> str:
    """A URL on the sandbox itself standing in for S3's presigned document URLs."""
    # Mounted under a prefix (demo mode's /sandbox/amazon), the prefix is the root path.
    base = str(request.base_url).rstrip("/") + request.scope.get("root_path", "").rstrip("/")
    return f"{base}/_sandbox/documents/{seller}/{doc_id}?X-Amz-Signature={signature}"


def _issue(code: str, message: str, attribute: str | None, category: str | None) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "code": code,
        "message": message,
        "severity": "ERROR",
        "categories": [category] if category else [],
    }
    if attribute:
        issue["attributeNames"] = [attribute]
    return issue


def _when(value: str) -> datetime:
    """A query date-time (validated ISO 8601 with a zone) as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _document_bytes(doc: Mapping[str, Any]) -> bytes:
    """A stored document's content as it was uploaded (uploads are held compressed)."""
    content: bytes = doc["content"] or b""
    return zlib.decompress(content) if doc.get("packed") else content


def _price(attributes: Mapping[str, Any], name: str) -> Decimal | None:
    try:
        offer = attributes["purchasable_offer"][0]
        return Decimal(str(offer[name][0]["schedule"][0]["value_with_tax"]))
    except (KeyError, IndexError, TypeError, InvalidOperation):
        return None


class AmazonSandbox(SandboxBase):
    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        specs: Path | None = None,
        app_credentials: SandboxApp | None = None,
        token_ttl: float = 3600.0,
        feed_queue_seconds: float = 30.0,
        feed_processing_seconds: float = 60.0,
        definitions: ProductTypeDefinitions | None = None,
        seed: int | None = None,
        order_life: OrderLife | None = None,
    ) -> None:
        super().__init__(time_scale=time_scale, seed=seed)
        # Listings are kept packed: 20,000 of them as Python objects would be ~180 MB.
        self.state = StateStore(packed=("listings",))
        self.credentials = app_credentials or SandboxApp()
        self.token_ttl = token_ttl
        self.feed_queue_seconds = feed_queue_seconds
        self.feed_processing_seconds = feed_processing_seconds
        # Amazon's required attributes per product type: the sandbox's own data, never the
        # adapter's product type map (see sandbox_definitions).
        self.definitions = definitions or load_definitions()
        self._tokens: dict[str, _Token] = {}
        # (seller, operation) → how its calls arrived; see sandbox_calls.CallLoad.
        self.loads: dict[tuple[str, str], CallLoad] = {}
        root = specs or specs_dir(__package__ or "adapters.amazon")
        listings = json.loads((root / "listingsItems_2021-08-01.json").read_text(encoding="utf-8"))
        feeds = json.loads((root / "feeds_2021-06-30.json").read_text(encoding="utf-8"))
        self.validators = {
            "putListingsItem": SchemaValidator.for_openapi_body(listings, "putListingsItem"),
            "patchListingsItem": SchemaValidator.for_openapi_body(listings, "patchListingsItem"),
            "createFeed": SchemaValidator.for_openapi_body(feeds, "createFeed"),
            "createFeedDocument": SchemaValidator.for_openapi_body(feeds, "createFeedDocument"),
            "feed": SchemaValidator.from_file(root / "listings-feed-schema-v2.json"),
            "report": SchemaValidator.from_file(
                root / "listings-feed-processing-report-schema-v2.json"
            ),
        }
        orders_spec = json.loads((root / "orders_2026-01-01.json").read_text(encoding="utf-8"))
        # The usage plans the models document, enforced per seller and operation.
        self.guard = TokenBucketGuard(
            usage_plans(listings, feeds, orders_spec),
            self.clock,
            throttled_response=self._throttled,
        )
        self.query_validators = {
            "searchListingsItems": QueryValidator.for_openapi_operation(
                listings, "searchListingsItems"
            ),
            "searchOrders": QueryValidator.for_openapi_operation(orders_spec, "searchOrders"),
            **{
                op: QueryValidator.for_openapi_operation(listings, op)
                for op in ("putListingsItem", "patchListingsItem")
            },
        }
        self.orders = OrderBook(self, self.state, self.clock, life=order_life, seed=seed)
        self.app = self._build_app()

    # conformance handle ---------------------------------------------------------------------

    def issued_secrets(self) -> set[str]:
        return set(self._issued) | {
            self.credentials.client_secret,
            *self.credentials.refresh_tokens,
        }

    def expire_tokens(self) -> None:
        """Every access token handed out so far dies now (SP-API then answers 403)."""
        for token in self._tokens.values():
            token.expires_at = self.clock.monotonic() - 1

    # responses ------------------------------------------------------------------------------

    def _throttled(self, operation: str, verdict: Throttle) -> Response:
        # SP-API sends no Retry-After on 429, only the rate it applied.
        return _errors(
            429,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
            **{"x-amzn-RateLimit-Limit": f"{verdict.rate:g}"},
        )

    def _ok(self, body: Any, operation: str, status: int = 200) -> JSONResponse:
        # x-amzn-RequestId and x-amzn-RateLimit-Limit: SpApiHeaders, as on every answer.
        return JSONResponse(body, status_code=status)

    def rate_of(self, operation: str) -> float | None:
        """The rate x-amzn-RateLimit-Limit reports for `operation` (its usage plan's)."""
        plan = self.guard.plans.get(operation)
        return plan[0] if plan else None

    def load(self, seller: str, operation: str) -> CallLoad:
        """How `seller`'s calls of `operation` arrived (peak in flight, peak burst)."""
        return self.loads.setdefault((seller, operation), CallLoad())

    def _arrive(self, request: Request, seller: str, operation: str) -> None:
        rate = self.rate_of(operation)
        if rate is None:
            return
        load = self.load(seller, operation)
        load.arrive(self.clock.monotonic(), rate)
        setattr(request.state, LOAD_KEY, load)  # SpApiHeaders counts it out when answered

    @staticmethod
    def _fault_body(status: int, headers: dict[str, str]) -> Response:
        code, message = {
            401: ("Unauthorized", "Access to requested resource is denied."),
            403: ("Unauthorized", "Access to requested resource is denied."),
            429: ("QuotaExceeded", "You exceeded your quota for the requested resource."),
            503: ("ServiceUnavailable", "Service temporarily unavailable."),
            504: ("RequestTimeout", "The request timed out."),
        }.get(status, ("InternalFailure", "We encountered an internal error."))
        return _errors(status, code, message, **headers)

    async def _fault(self, operation: str, seller: str | None) -> Response | None:
        return await fault_response(self.faults, self.clock, operation, seller, self._fault_body)

    async def _enter(
        self, request: Request, operation: str, seller_in_path: str | None = None
    ) -> tuple[str, Response | None]:
        """Faults, access token, seller match and throttling, in that order."""
        setattr(request.state, OPERATION_KEY, operation)
        self.state.record_call(seller_in_path or "", operation)
        faulted = await self._fault(operation, seller_in_path)
        if faulted is not None:
            return "", faulted
        presented = request.headers.get("x-amz-access-token")
        token = self._tokens.get(presented or "")
        if token is None:
            return "", _errors(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided is missing or invalid.",
            )
        if self.clock.monotonic() >= token.expires_at:
            return "", _errors(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided has expired.",
            )
        if seller_in_path is not None and seller_in_path != token.seller:
            return "", _errors(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The seller in the path did not authorise this application.",
            )
        self._arrive(request, token.seller, operation)
        throttled = self.guard.enforce(token.seller, operation)
        return token.seller, throttled

    @staticmethod
    def _marketplace(request: Request) -> tuple[str | None, Response | None]:
        ids = [m for v in request.query_params.getlist("marketplaceIds") for m in v.split(",") if m]
        if not ids:
            return None, _errors(400, "InvalidInput", "Missing required 'marketplaceIds'.")
        if len(ids) > 1:
            return None, _errors(400, "InvalidInput", "Only one marketplace is allowed.")
        return ids[0], None

    async def _json_body(self, request: Request, validator: str) -> tuple[Any, Response | None]:
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None, _errors(400, "InvalidInput", "The request body is not valid JSON.")
        problems = self.validators[validator].errors(body)
        if problems:
            return None, _errors(
                400,
                "InvalidInput",
                "Request has missing or invalid parameters and cannot be parsed.",
                "; ".join(str(p) for p in problems[:5]),
            )
        return body, None

    # orders (the OrderShop the generator sells from, and searchOrders) ------------------------

    def order_skus(self, seller: str) -> list[str]:
        return list(self.state.table(seller, "listings"))

    def stock(self, seller: str, sku: str) -> tuple[int, int] | None:
        row = self.state.table(seller, "listings").get(sku)
        price = _price(row["attributes"], "our_price") if row else None
        if row is None or price is None:
            return None
        availability = row["attributes"].get("fulfillment_availability") or [{}]
        return int(availability[0].get("quantity") or 0), int(price * 100)

    def adjust_stock(self, seller: str, sku: str, delta: int) -> None:
        listings = self.state.table(seller, "listings")
        row = listings.get(sku)
        availability = (row or {}).get("attributes", {}).get("fulfillment_availability")
        if row is None or not availability:
            return
        availability[0]["quantity"] = max(0, int(availability[0].get("quantity") or 0) + delta)
        listings[sku] = row  # packed rows are copies: store it back

    def new_order_id(self, seller: str, number: int) -> str:
        return f"171-{zlib.crc32(seller.encode()) % 10**7:07d}-{number:07d}"

    def _order(self, seller: str, order: Mapping[str, Any], datasets: set[str]) -> dict[str, Any]:
        """A book order as searchOrders shows it; optional datasets only when asked for."""
        status = order["status"]
        sent = status in ("shipped", "delivered", "returned")
        items = []
        for line in order["lines"]:
            quantity = line["quantity"]
            item: dict[str, Any] = {
                "orderItemId": line["id"],
                "quantityOrdered": quantity,
                "product": {
                    "asin": self._asin(seller, line["sku"]),
                    "sellerSku": line["sku"],
                    "price": {
                        "unitPrice": {
                            "amount": str(Decimal(line["unitPrice"]) / 100),
                            "currencyCode": "INR",
                        }
                    },
                },
            }
            if "FULFILLMENT" in datasets:
                done = quantity - line["cancelled"] if sent else 0
                item["fulfillment"] = {
                    "quantityFulfilled": done,
                    "quantityUnfulfilled": quantity - line["cancelled"] - done,
                }
            if "CANCELLATION" in datasets and line["cancelled"]:
                item["cancellation"] = {
                    "cancellationRequest": {"requester": "BUYER", "cancelReason": "Changed mind"},
                    "cancellationExecution": {
                        "cancelledBy": "BUYER",
                        "cancelReason": "Buyer requested cancellation",
                    },
                }
            items.append(item)
        body: dict[str, Any] = {
            "orderId": order["id"],
            "createdTime": order["created"],
            "lastUpdatedTime": order["updated"],
            "salesChannel": {
                "channelName": "AMAZON",
                "marketplaceId": AMAZON_IN,
                "marketplaceName": "Amazon.in",
            },
            "orderItems": items,
        }
        if "FULFILLMENT" in datasets:
            body["fulfillment"] = {
                "fulfillmentStatus": FULFILLMENT_STATUS[status],
                "fulfilledBy": "MERCHANT",
                "fulfillmentServiceLevel": "STANDARD",
            }
        if "PACKAGES" in datasets and sent:
            status_words = {
                "shipped": {"status": "IN_TRANSIT", "detailedStatus": "PICKED_UP"},
                "delivered": {"status": "DELIVERED", "detailedStatus": "DELIVERED"},
                "returned": {"status": "DELIVERED", "detailedStatus": "RETURNED_TO_SELLER"},
            }[status]
            body["packages"] = [
                {
                    "packageReferenceId": "1",
                    "packageStatus": status_words,
                    "carrier": "ATS",
                    "packageItems": [
                        {"orderItemId": line["id"], "quantity": line["quantity"]}
                        for line in order["lines"]
                    ],
                }
            ]
        return body

    def _query(self, operation: str, request: Request) -> tuple[dict[str, Any], Response | None]:
        """The operation's query parameters checked against the spec: the parsed values, or a
        400 naming what is missing or invalid."""
        values, problems = self.query_validators[operation].parse(
            request.query_params.multi_items()
        )
        if not problems:
            return values, None
        return values, _errors(
            400,
            "InvalidInput",
            "Request has missing or invalid parameters and cannot be parsed.",
            "; ".join(str(p) for p in problems[:5]),
        )

    def _search_orders(self, seller: str, request: Request) -> Response:
        values, refused = self._query("searchOrders", request)
        if refused is not None:
            return refused
        by_update = "lastUpdatedAfter" in values
        if by_update == ("createdAfter" in values):
            return _errors(
                400, "InvalidInput", "Exactly one of createdAfter and lastUpdatedAfter is required."
            )
        mixed = "createdBefore" if by_update else "lastUpdatedBefore"
        if mixed in values:
            return _errors(
                400, "InvalidInput", "createdBefore and lastUpdatedBefore cannot be combined."
            )
        after = _when(values["lastUpdatedAfter" if by_update else "createdAfter"])
        latest = self.clock.utcnow() - timedelta(seconds=ORDER_DATA_LAG)
        given = values.get("lastUpdatedBefore" if by_update else "createdBefore")
        before = _when(given) if given else latest
        if before > latest:
            return _errors(
                400,
                "InvalidInput",
                f"{'lastUpdatedBefore' if by_update else 'createdBefore'} must be at least two "
                "minutes before the time of the request.",
            )
        if given and before < after:
            return _errors(400, "InvalidInput", "The end of the range is before its start.")
        size = values.get("maxResultsPerPage", 100)
        if not 1 <= size <= 100:
            return _errors(400, "InvalidInput", "maxResultsPerPage must be between 1 and 100.")
        window = [stamp(after), stamp(before)]
        key: tuple[str, str] | None = None
        if "paginationToken" in values:
            try:
                token = json.loads(base64.urlsafe_b64decode(values["paginationToken"]))
                if token["w"] != window or token["c"] != (not by_update):
                    raise ValueError("another search")
                key = (str(token["k"][0]), str(token["k"][1]))
            except (ValueError, KeyError, TypeError, IndexError):
                return _errors(
                    400, "InvalidInput", "paginationToken does not belong to this search."
                )
        marketplaces = values.get("marketplaceIds")
        statuses = set(values.get("fulfillmentStatuses", ()))
        fulfilled_by = set(values.get("fulfilledBy", ()))

        def keep(order: Mapping[str, Any]) -> bool:
            if not by_update and not window[0] <= order["created"] <= window[1]:
                return False
            if statuses and FULFILLMENT_STATUS[order["status"]] not in statuses:
                return False
            return not fulfilled_by or "MERCHANT" in fulfilled_by

        if marketplaces is not None and AMAZON_IN not in marketplaces:
            page: list[dict[str, Any]] = []
            following = None
        else:
            page, following = self.orders.changed(
                seller,
                after=window[0] if by_update else "",
                before=window[1] if by_update else None,
                key=key,
                limit=size,
                keep=keep,
            )
        datasets = set(values.get("includedData", ()))
        body: dict[str, Any] = {"orders": [self._order(seller, o, datasets) for o in page]}
        if following is not None:
            token_body = {"w": window, "c": not by_update, "k": list(following)}
            body["pagination"] = {
                "nextToken": base64.urlsafe_b64encode(json.dumps(token_body).encode()).decode()
            }
        body["lastUpdatedBefore" if by_update else "createdBefore"] = window[1]
        return self._ok(body, "searchOrders")

    # searchListingsItems --------------------------------------------------------------------

    def _search_listings(self, seller: str, request: Request) -> Response:
        """The query checked against the spec (types, enums, `identifiers` maxItems 20,
        `pageSize` maximum 20, no unknown parameters), then the seller's listings by SKU, or
        those `identifiers` name, a page at a time with the `includedData` asked for (default
        `summaries`). Only SKU identifiers are matched: other types find nothing here."""
        values, refused = self._query("searchListingsItems", request)
        if refused is not None:
            return refused
        marketplace_id, bad = self._marketplace(request)
        if bad is not None or marketplace_id is None:
            return bad or _errors(400, "InvalidInput", "marketplaceIds")
        identifiers = [i for i in values.get("identifiers", ()) if i]
        kind = values.get("identifiersType")
        if identifiers and kind is None:
            return _errors(400, "InvalidInput", "identifiersType is required with identifiers.")
        if kind is not None and not identifiers:
            return _errors(400, "InvalidInput", "identifiers is required with identifiersType.")
        filters = {
            "identifiers": identifiers,
            "variationParentSku": values.get("variationParentSku"),
            "packageHierarchySku": values.get("packageHierarchySku"),
        }
        exclusive = [name for name, value in filters.items() if value]
        if len(exclusive) > 1:
            return _errors(400, "InvalidInput", f"{' and '.join(exclusive)} cannot be combined.")
        size = values.get("pageSize", 10)
        if size < 1:
            return _errors(400, "InvalidInput", "pageSize must be between 1 and 20.")
        try:
            start = int(values.get("pageToken", "0"))
            if start < 0:
                raise ValueError(start)
        except ValueError:
            return _errors(400, "InvalidInput", "pageToken does not belong to this search.")
        listings = self.state.table(seller, "listings")
        if kind is None:
            skus = sorted(listings)
        elif kind == "SKU":
            skus = sorted({i for i in identifiers if i in listings})
        else:
            skus = []
        included = set(values.get("includedData") or ("summaries",))
        page = skus[start : start + size]
        body: dict[str, Any] = {
            "numberOfResults": len(skus),
            "items": [self._item(seller, sku, marketplace_id, included) for sku in page],
        }
        pagination: dict[str, str] = {}
        if start + size < len(skus):
            pagination["nextToken"] = str(start + size)
        if start > 0:
            pagination["previousToken"] = str(max(0, start - size))
        if pagination:
            body["pagination"] = pagination
        return self._ok(body, "searchListingsItems")

    # listings logic (shared by the item API and feeds) ---------------------------------------

    def _listing_issues(
        self,
        sku: str,
        product_type: str,
        attributes: Mapping[str, Any],
        marketplace_id: str,
        requirements: str = "LISTING",
    ) -> list[dict[str, Any]]:
        issues: list[dict[str, Any]] = []
        for name, value in attributes.items():
            if not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
                issues.append(
                    _issue("90000900", "The attributes are invalid.", name, "INVALID_ATTRIBUTE")
                )
                continue
            for entry in value:
                mp = entry.get("marketplace_id")
                if mp is not None and mp != marketplace_id:
                    issues.append(
                        _issue(
                            "90000900",
                            f"'{name}' is for another marketplace.",
                            name,
                            "INVALID_ATTRIBUTE",
                        )
                    )
                    break
        for name in self.definitions.required(product_type, requirements):
            if not attributes.get(name):
                issues.append(_issue(MISSING_CODE, missing_message(name), name, MISSING_CATEGORY))
        if "purchasable_offer" in attributes:
            our, mrp = _price(attributes, "our_price"), _price(attributes, "maximum_retail_price")
            currency = MARKETPLACE_CURRENCY.get(marketplace_id)
            offered = attributes["purchasable_offer"]
            first = offered[0] if isinstance(offered, list) and offered else None
            if isinstance(first, dict) and currency and first.get("currency") != currency:
                issues.append(
                    _issue(
                        "99010",
                        f"The currency must be {currency}.",
                        "purchasable_offer",
                        "INVALID_PRICE",
                    )
                )
            if our is None or our <= 0:
                issues.append(
                    _issue(
                        "99022",
                        "The field 'our_price' for the attribute "
                        "'purchasable_offer' does not have enough values.",
                        "purchasable_offer.our_price",
                        "MISSING_PRICE",
                    )
                )
            elif mrp is not None and our > mrp:
                issues.append(
                    _issue(
                        "99300",
                        "The price is higher than the maximum retail price.",
                        "purchasable_offer.our_price",
                        "INVALID_PRICE",
                    )
                )
        rejection = self.faults.rejection_for(sku)
        if rejection is not None:
            issues.append(
                _issue(rejection.code, rejection.message, rejection.field, "INVALID_ATTRIBUTE")
            )
        return issues

    def _asin(self, seller: str, sku: str) -> str:
        return "B0" + hashlib.sha256(f"{seller}/{sku}".encode()).hexdigest()[:8].upper()

    def _store(self, seller: str, sku: str, product_type: str, attributes: dict[str, Any]) -> None:
        listings = self.state.table(seller, "listings")
        now = self.clock.utcnow().isoformat()
        current = listings.get(sku)
        if (
            current
            and current["attributes"] == attributes
            and current["productType"] == product_type
        ):
            return  # an identical re-put changes nothing (idempotent)
        listings[sku] = {
            "sku": sku,
            "productType": product_type,
            "attributes": attributes,
            "asin": current["asin"] if current else self._asin(seller, sku),
            "createdDate": current["createdDate"] if current else now,
            "lastUpdatedDate": now,
            "version": (current["version"] + 1) if current else 1,
        }

    def _apply_put(
        self, seller: str, sku: str, body: Mapping[str, Any], marketplace_id: str, *, preview: bool
    ) -> list[dict[str, Any]]:
        requirements = body.get("requirements", "LISTING")
        issues = self._listing_issues(
            sku, body["productType"], body["attributes"], marketplace_id, requirements
        )
        if not issues and not preview:
            self._store(seller, sku, body["productType"], dict(body["attributes"]))
        return issues

    def _apply_patch(
        self, seller: str, sku: str, body: Mapping[str, Any], marketplace_id: str, *, preview: bool
    ) -> list[dict[str, Any]]:
        current = self.state.table(seller, "listings").get(sku)
        if current is None:
            return [
                _issue(
                    "4000001",
                    f"SKU '{sku}' does not exist; create it with a full listing first.",
                    None,
                    None,
                )
            ]
        attributes = dict(current["attributes"])
        for patch in body["patches"]:
            path = patch["path"]
            if not path.startswith("/attributes/") or path.count("/") != 2:
                return [
                    _issue(
                        "90000900",
                        f"Only top-level attributes can be patched: {path}.",
                        None,
                        "INVALID_ATTRIBUTE",
                    )
                ]
            name = path.removeprefix("/attributes/")
            if patch["op"] == "delete":
                attributes.pop(name, None)
            else:
                attributes[name] = patch.get("value", [])
        # Offer patches are checked on what they touch (price, stock), not the full content.
        patched = {p["path"].removeprefix("/attributes/") for p in body["patches"]}
        touched = {name: attributes[name] for name in patched if attributes.get(name)}
        issues = self._listing_issues(sku, "PRODUCT", touched, marketplace_id, "LISTING_OFFER_ONLY")
        if not issues and not preview:
            self._store(seller, sku, current["productType"], attributes)
        return issues

    def _item(
        self, seller: str, sku: str, marketplace_id: str, included: set[str]
    ) -> dict[str, Any]:
        row = self.state.table(seller, "listings")[sku]
        attrs = row["attributes"]
        item: dict[str, Any] = {"sku": sku}
        quantity = None
        fa = attrs.get("fulfillment_availability") or []
        if fa and isinstance(fa[0], dict):
            quantity = fa[0].get("quantity")
        if "summaries" in included:
            names = attrs.get("item_name") or [{}]
            item["summaries"] = [
                {
                    "marketplaceId": marketplace_id,
                    "asin": row["asin"],
                    "productType": row["productType"],
                    "conditionType": "new_new",
                    "status": ["BUYABLE", "DISCOVERABLE"] if quantity else ["DISCOVERABLE"],
                    "itemName": names[0].get("value"),
                    "createdDate": row["createdDate"],
                    "lastUpdatedDate": row["lastUpdatedDate"],
                }
            ]
        if "attributes" in included:
            item["attributes"] = attrs
        if "issues" in included:
            item["issues"] = []
        if "offers" in included:
            price = _price(attrs, "our_price")
            item["offers"] = (
                []
                if price is None
                else [
                    {
                        "marketplaceId": marketplace_id,
                        "offerType": "B2C",
                        "price": {
                            "currencyCode": MARKETPLACE_CURRENCY.get(marketplace_id, "INR"),
                            "amount": f"{price:.2f}",
                        },
                    }
                ]
            )
        if "fulfillmentAvailability" in included:
            item["fulfillmentAvailability"] = [
                {
                    "fulfillmentChannelCode": e.get("fulfillment_channel_code", "DEFAULT"),
                    "quantity": e.get("quantity"),
                }
                for e in fa
                if isinstance(e, dict)
            ]
        return item

    def _submission(
        self,
        sku: str,
        issues: list[dict[str, Any]],
        seller: str,
        marketplace_id: str,
        included: set[str],
        *,
        preview: bool,
    ) -> dict[str, Any]:
        """putListingsItem / patchListingsItem's answer with the data sets `included` asks for
        (identifiers only come with VALIDATION_PREVIEW, whose answer is VALID or INVALID)."""
        errors = [i for i in issues if i["severity"] == "ERROR"]
        status = "INVALID" if errors else ("VALID" if preview else "ACCEPTED")
        body: dict[str, Any] = {"sku": sku, "status": status, "submissionId": uuid.uuid4().hex}
        if "issues" in included:
            body["issues"] = issues
        if "identifiers" in included:
            row = self.state.table(seller, "listings").get(sku)
            asin = row["asin"] if row else self._asin(seller, sku)  # the one it would get
            body["identifiers"] = (
                [] if errors else [{"marketplaceId": marketplace_id, "asin": asin}]
            )
        return body

    # feeds ----------------------------------------------------------------------------------

    def _feed_status(self, seller: str, feed: dict[str, Any]) -> None:
        if feed["processingStatus"] in ("DONE", "FATAL", "CANCELLED"):
            return
        elapsed = self.clock.monotonic() - feed["_created"]
        if elapsed < self.feed_queue_seconds:
            return
        if feed["processingStatus"] == "IN_QUEUE":
            feed["processingStatus"] = "IN_PROGRESS"
            feed["processingStartTime"] = self.clock.utcnow().isoformat()
        if feed["_stuck"] or elapsed < self.feed_queue_seconds + self.feed_processing_seconds:
            return
        self._process_feed(seller, feed)

    def _process_feed(self, seller: str, feed: dict[str, Any]) -> None:
        documents = self.state.table(seller, "documents")
        source = documents[feed["inputFeedDocumentId"]]
        report_issues: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        fatal = False
        try:
            content = json.loads(_document_bytes(source))
            problems = self.validators["feed"].errors(content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            content, problems = {}, []
            fatal = True
            report_issues.append(
                {
                    "code": "4000004",
                    "severity": "ERROR",
                    "message": "The feed document is not valid JSON.",
                }
            )
        if problems:
            fatal = True
            for problem in problems[:20]:
                report_issues.append(
                    {
                        "code": "4000004",
                        "severity": "ERROR",
                        "message": f"The feed does not match its schema: {problem}",
                    }
                )
        header = content.get("header", {}) if isinstance(content, dict) else {}
        if not fatal:
            messages = content["messages"]
            if header.get("sellerId") != seller:
                fatal = True
                report_issues.append(
                    {
                        "code": "4000005",
                        "severity": "ERROR",
                        "message": "The header sellerId does not match the seller.",
                    }
                )
        accepted = invalid = 0
        marketplace_id = feed["marketplaceIds"][0]
        for message in [] if fatal else messages:
            sku, op = message["sku"], message["operationType"]
            if op == "DELETE":
                self.state.table(seller, "listings").pop(sku, None)
                issues: list[dict[str, Any]] = []
            elif op == "PATCH":
                issues = self._apply_patch(seller, sku, message, marketplace_id, preview=False)
            elif op == "PARTIAL_UPDATE":
                patch = {
                    "patches": [
                        {"op": "replace", "path": f"/attributes/{k}", "value": v}
                        for k, v in message["attributes"].items()
                    ]
                }
                issues = self._apply_patch(seller, sku, patch, marketplace_id, preview=False)
            else:
                issues = self._apply_put(seller, sku, message, marketplace_id, preview=False)
            for issue in issues:
                entry = {
                    "messageId": message["messageId"],
                    "sku": sku,
                    "code": issue["code"],
                    "severity": issue["severity"],
                    "message": issue["message"],
                }
                if issue.get("attributeNames"):
                    entry["attributeName"] = issue["attributeNames"][0]
                report_issues.append(entry)
            if any(i["severity"] == "ERROR" for i in issues):
                invalid += 1
            else:
                accepted += 1
                included = set(header.get("report", {}).get("includedData", []))
                if included and op != "DELETE":
                    items.append(self._item(seller, sku, marketplace_id, included))
        report: dict[str, Any] = {
            "header": {"sellerId": seller, "version": "2.0", "feedId": feed["feedId"]},
            "issues": report_issues,
            "summary": {
                "errors": sum(1 for i in report_issues if i["severity"] == "ERROR"),
                "warnings": sum(1 for i in report_issues if i["severity"] == "WARNING"),
                "messagesProcessed": accepted + invalid,
                "messagesAccepted": accepted,
                "messagesInvalid": invalid,
            },
        }
        if header.get("report"):
            report["header"]["report"] = header["report"]
            report["summary"]["itemSummary"] = {"items": len(items), "errors": 0, "warnings": 0}
            report["items"] = items
        problems = self.validators["report"].errors(report)
        assert not problems, f"sandbox built an invalid processing report: {problems}"  # noqa: S101
        report_id = f"amzn1.tortuga.4.eu.{uuid.uuid4()}"
        documents[report_id] = {
            "content": gzip.compress(json.dumps(report).encode()),
            "contentType": "application/json",
            "compression": "GZIP",
            "signature": secrets.token_urlsafe(16),
        }
        feed["resultFeedDocumentId"] = report_id
        feed["processingStatus"] = "FATAL" if fatal else "DONE"
        feed["processingEndTime"] = self.clock.utcnow().isoformat()

    @staticmethod
    def _public(feed: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in feed.items() if not k.startswith("_")}

    # app ------------------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Amazon SP-API sandbox (odop-sync)", docs_url=None, redoc_url=None)
        app.state.sandbox = self
        app.add_middleware(SpApiHeaders, rate_of=self.rate_of)
        app.include_router(fault_admin_router(self.faults))
        app.include_router(order_admin_router(self.orders))
        sandbox = self

        @app.post("/auth/o2/token")
        async def token(request: Request) -> Response:
            sandbox.state.record_call("", "lwa.token")
            faulted = await sandbox._fault("lwa.token", None)
            if faulted is not None:
                return faulted
            form = await request.form()
            creds = sandbox.credentials
            if form.get("grant_type") != "refresh_token":
                return JSONResponse(
                    {
                        "error": "unsupported_grant_type",
                        "error_description": "grant_type must be refresh_token",
                    },
                    400,
                )
            if (
                form.get("client_id") != creds.client_id
                or form.get("client_secret") != creds.client_secret
            ):
                return JSONResponse(
                    {
                        "error": "invalid_client",
                        "error_description": "Client authentication failed",
                    },
                    401,
                )
            seller = creds.refresh_tokens.get(str(form.get("refresh_token", "")))
            if seller is None:
                return JSONResponse(
                    {
                        "error": "invalid_grant",
                        "error_description": (
                            "The request has an invalid grant parameter : refresh_token"
                        ),
                    },
                    400,
                )
            access = "Atza|" + secrets.token_urlsafe(24)
            sandbox._tokens[access] = _Token(seller, sandbox.clock.monotonic() + sandbox.token_ttl)
            sandbox._issued.add(access)
            return JSONResponse(
                {
                    "access_token": access,
                    "refresh_token": form.get("refresh_token"),
                    "token_type": "bearer",
                    "expires_in": int(sandbox.token_ttl),
                }
            )

        @app.get(LISTINGS + "/{seller_id}")
        async def search_listings(seller_id: str, request: Request) -> Response:
            seller, refused = await sandbox._enter(request, "searchListingsItems", seller_id)
            if refused is not None:
                return refused
            return sandbox._search_listings(seller, request)

        async def write_listing(
            operation: str, apply: Any, seller_id: str, sku: str, request: Request
        ) -> Response:
            """putListingsItem and patchListingsItem: the same checks, a different apply."""
            seller, refused = await sandbox._enter(request, operation, seller_id)
            if refused is not None:
                return refused
            marketplace_id, bad = sandbox._marketplace(request)
            if bad is not None or marketplace_id is None:
                return bad or _errors(400, "InvalidInput", "marketplaceIds")
            values, refused = sandbox._query(operation, request)
            if refused is not None:
                return refused
            preview = values.get("mode") == "VALIDATION_PREVIEW"
            included = set(values.get("includedData") or ("issues",))
            if "identifiers" in included and not preview:
                return _errors(
                    400,
                    "InvalidInput",
                    "Request has missing or invalid parameters and cannot be parsed.",
                    "includedData 'identifiers' can only be requested when mode is "
                    "VALIDATION_PREVIEW.",
                )
            body, invalid = await sandbox._json_body(request, operation)
            if invalid is not None:
                return invalid
            issues = apply(seller, sku, body, marketplace_id, preview=preview)
            return sandbox._ok(
                sandbox._submission(sku, issues, seller, marketplace_id, included, preview=preview),
                operation,
            )

        @app.put(LISTINGS + "/{seller_id}/{sku}")
        async def put_listing(seller_id: str, sku: str, request: Request) -> Response:
            return await write_listing(
                "putListingsItem", sandbox._apply_put, seller_id, sku, request
            )

        @app.patch(LISTINGS + "/{seller_id}/{sku}")
        async def patch_listing(seller_id: str, sku: str, request: Request) -> Response:
            return await write_listing(
                "patchListingsItem", sandbox._apply_patch, seller_id, sku, request
            )

        @app.get(LISTINGS + "/{seller_id}/{sku}")
        async def get_listing(seller_id: str, sku: str, request: Request) -> Response:
            seller, refused = await sandbox._enter(request, "getListingsItem", seller_id)
            if refused is not None:
                return refused
            marketplace_id, bad = sandbox._marketplace(request)
            if bad is not None or marketplace_id is None:
                return bad or _errors(400, "InvalidInput", "marketplaceIds")
            if sku not in sandbox.state.table(seller, "listings"):
                return _errors(
                    404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {marketplace_id}"
                )
            included = {
                v for x in request.query_params.getlist("includedData") for v in x.split(",")
            }
            return sandbox._ok(
                sandbox._item(seller, sku, marketplace_id, included or {"summaries"}),
                "getListingsItem",
            )

        @app.delete(LISTINGS + "/{seller_id}/{sku}")
        async def delete_listing(seller_id: str, sku: str, request: Request) -> Response:
            seller, refused = await sandbox._enter(request, "deleteListingsItem", seller_id)
            if refused is not None:
                return refused
            marketplace_id, bad = sandbox._marketplace(request)
            if bad is not None or marketplace_id is None:
                return bad or _errors(400, "InvalidInput", "marketplaceIds")
            sandbox.state.table(seller, "listings").pop(sku, None)
            return sandbox._ok(
                {"sku": sku, "status": "ACCEPTED", "submissionId": uuid.uuid4().hex, "issues": []},
                "deleteListingsItem",
            )

        @app.post(FEEDS + "/documents")
        async def create_feed_document(request: Request) -> Response:
            seller, refused = await sandbox._enter(request, "createFeedDocument")
            if refused is not None:
                return refused
            body, invalid = await sandbox._json_body(request, "createFeedDocument")
            if invalid is not None:
                return invalid
            doc_id = f"amzn1.tortuga.4.eu.{uuid.uuid4()}"
            signature = secrets.token_urlsafe(16)
            sandbox.state.table(seller, "documents")[doc_id] = {
                "content": None,
                "contentType": body["contentType"],
                "signature": signature,
            }
            url = _presigned(request, seller, doc_id, signature)
            return sandbox._ok({"feedDocumentId": doc_id, "url": url}, "createFeedDocument", 201)

        @app.put("/_sandbox/documents/{seller}/{doc_id}")
        async def upload_document(seller: str, doc_id: str, request: Request) -> Response:
            sandbox.state.record_call(seller, "uploadFeedDocument")
            doc = sandbox.state.table(seller, "documents").get(doc_id)
            if doc is None or request.query_params.get("X-Amz-Signature") != doc["signature"]:
                return Response(
                    "<Error><Code>AccessDenied</Code></Error>", 403, media_type="application/xml"
                )
            if request.headers.get("content-type") != doc["contentType"]:
                return Response(
                    "<Error><Code>SignatureDoesNotMatch</Code></Error>",
                    403,
                    media_type="application/xml",
                )
            # Held compressed (a 20,000-message feed is ~40 MB of JSON), served back as sent.
            doc["content"] = zlib.compress(await request.body(), 1)
            doc["packed"] = True
            return Response(status_code=200)

        @app.get("/_sandbox/documents/{seller}/{doc_id}")
        async def download_document(seller: str, doc_id: str, request: Request) -> Response:
            sandbox.state.record_call(seller, "downloadFeedDocument")
            doc = sandbox.state.table(seller, "documents").get(doc_id)
            if doc is None or request.query_params.get("X-Amz-Signature") != doc["signature"]:
                return Response(
                    "<Error><Code>AccessDenied</Code></Error>", 403, media_type="application/xml"
                )
            return Response(_document_bytes(doc), media_type=doc["contentType"])

        @app.post(FEEDS + "/feeds")
        async def create_feed(request: Request) -> Response:
            seller, refused = await sandbox._enter(request, "createFeed")
            if refused is not None:
                return refused
            body, invalid = await sandbox._json_body(request, "createFeed")
            if invalid is not None:
                return invalid
            if body["feedType"] != "JSON_LISTINGS_FEED":
                return _errors(
                    400, "InvalidInput", f"The sandbox does not process {body['feedType']}."
                )
            doc = sandbox.state.table(seller, "documents").get(body["inputFeedDocumentId"])
            if doc is None or doc["content"] is None:
                return _errors(400, "InvalidInput", "inputFeedDocumentId has not been uploaded.")
            feed_id = str(50_000_000_000 + len(sandbox.state.table(seller, "feeds")) + 1)
            sandbox.state.table(seller, "feeds")[feed_id] = {
                "feedId": feed_id,
                "feedType": body["feedType"],
                "marketplaceIds": body["marketplaceIds"],
                "createdTime": sandbox.clock.utcnow().isoformat(),
                "processingStatus": "IN_QUEUE",
                "inputFeedDocumentId": body["inputFeedDocumentId"],
                "_created": sandbox.clock.monotonic(),
                "_stuck": sandbox.faults.take_stuck_feed(seller),
            }
            return sandbox._ok({"feedId": feed_id}, "createFeed", 202)

        async def current_feed(
            request: Request, operation: str, feed_id: str
        ) -> tuple[dict[str, Any] | None, Response | None]:
            """getFeed and cancelFeed: authorise, find the feed, bring its status up to date."""
            seller, refused = await sandbox._enter(request, operation)
            if refused is not None:
                return None, refused
            feed = sandbox.state.table(seller, "feeds").get(feed_id)
            if feed is None:
                return None, _errors(404, "NotFound", f"Feed {feed_id} was not found.")
            sandbox._feed_status(seller, feed)
            return feed, None

        @app.get(FEEDS + "/feeds/{feed_id}")
        async def get_feed(feed_id: str, request: Request) -> Response:
            feed, refused = await current_feed(request, "getFeed", feed_id)
            if feed is None:
                return refused or _errors(404, "NotFound", f"Feed {feed_id} was not found.")
            public = sandbox._public(feed)
            public.pop("inputFeedDocumentId", None)
            return sandbox._ok(public, "getFeed")

        @app.delete(FEEDS + "/feeds/{feed_id}")
        async def cancel_feed(feed_id: str, request: Request) -> Response:
            feed, refused = await current_feed(request, "cancelFeed", feed_id)
            if feed is None:
                return refused or _errors(404, "NotFound", f"Feed {feed_id} was not found.")
            if feed["processingStatus"] != "IN_QUEUE":
                return _errors(400, "InvalidInput", "Only IN_QUEUE feeds can be cancelled.")
            feed["processingStatus"] = "CANCELLED"
            return sandbox._ok({}, "cancelFeed")

        @app.get(FEEDS + "/documents/{doc_id}")
        async def get_feed_document(doc_id: str, request: Request) -> Response:
            seller, refused = await sandbox._enter(request, "getFeedDocument")
            if refused is not None:
                return refused
            doc = sandbox.state.table(seller, "documents").get(doc_id)
            if doc is None:
                return _errors(404, "NotFound", f"Document {doc_id} was not found.")
            url = _presigned(request, seller, doc_id, doc["signature"])
            body = {"feedDocumentId": doc_id, "url": url}
            if doc.get("compression"):
                body["compressionAlgorithm"] = doc["compression"]
            return sandbox._ok(body, "getFeedDocument")

        @app.get(ORDERS)
        async def search_orders(request: Request) -> Response:
            seller, refused = await sandbox._enter(request, "searchOrders")
            if refused is not None:
                return refused
            return sandbox._search_orders(seller, request)

        @app.get("/_sandbox/state/{seller_id}")
        async def state(seller_id: str) -> Response:
            listings = sandbox.state.table(seller_id, "listings")
            feeds = sandbox.state.table(seller_id, "feeds")
            for feed in feeds.values():
                sandbox._feed_status(seller_id, feed)
            return JSONResponse(
                {
                    "sellerId": seller_id,
                    "listings": [
                        {
                            "sku": row["sku"],
                            "asin": row["asin"],
                            "productType": row["productType"],
                            "price": str(_price(row["attributes"], "our_price")),
                            "mrp": str(_price(row["attributes"], "maximum_retail_price")),
                            "quantity": (row["attributes"].get("fulfillment_availability") or [{}])[
                                0
                            ].get("quantity"),
                            "version": row["version"],
                        }
                        for row in listings.values()
                    ],
                    "feeds": [sandbox._public(f) for f in feeds.values()],
                    "calls": {
                        op: n for (s, op), n in sandbox.state.calls.items() if s in ("", seller_id)
                    },
                    "throttled": dict(sandbox.guard.throttled),
                    "load": loads_of(sandbox.loads, seller_id),
                    "orders": sandbox.orders.public(seller_id),
                }
            )

        return app


def create_sandbox_app(time_scale: float = 1.0, **options: Any) -> FastAPI:
    """The ASGI app; `app.state.sandbox` is the AmazonSandbox behind it (faults, clock, state).
    Served on its own or in demo mode it generates orders slowly (DEMO_ORDER_LIFE) unless
    `order_life` says otherwise."""
    options.setdefault("order_life", DEMO_ORDER_LIFE)
    return AmazonSandbox(time_scale=time_scale, **options).app


def demo_credentials() -> dict[str, Any]:
    """Account credentials for a demo account of this sandbox. They name no host: the operator
    stands the sandbox in for Amazon's hosts (settings: marketplace_hosts; demo mode does it for
    the sandboxes it mounts). These are the sandbox's own published values, not secrets of any
    real seller."""
    app = SandboxApp()
    return {
        "seller_id": SANDBOX_SELLER,
        "lwa_client_id": app.client_id,
        "lwa_client_secret": app.client_secret,
        "refresh_token": next(iter(app.refresh_tokens)),
        "allow_http_images": True,
    }
