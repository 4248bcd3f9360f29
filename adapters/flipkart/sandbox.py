"""A Flipkart Marketplace Seller API v3 simulator for the operations FlipkartAdapter uses, on the
real paths:

- `GET /oauth-service/oauth/token?grant_type=client_credentials&scope=Seller_Api` with HTTP Basic
  application id and secret: a bearer token (60 days unless told otherwise).
- Listings V3: `POST /sellers/listings/v3` (createListings), `POST .../update` (updateListings),
  `POST .../update/price`, `POST .../update/inventory`, `GET .../{skuIds}` (getListings, comma-
  separated) and `POST .../search` (listingSearch, 500 a page).
- Shipment V3 search: `POST /sellers/v3/shipments/filter` (body validated against the spec; the
  states must belong to the filter type) and `GET /sellers/v3/shipments/filter?next_token=` on
  the `nextPageUrl` it hands out while `hasMore`; pages follow modification order, 20 at most.
- `/_sandbox/faults` (fault injection), `/_sandbox/state/{sellerId}` (what it holds) and
  `/_sandbox/orders/{sellerId}` (place, cancel, return orders on demand; see sandbox_orders).

Bodies are validated against the rebuilt OpenAPI file in specs/ (package data); a request that
breaks it, or carries more than 10 SKUs (docs: faq), gets 400. Each SKU of a valid write is judged
on its own and its status comes back inside the HTTP 200 (SUCCESS, WARNING or FAILURE with
`errors` / `attribute_errors`). The docs leave the failure codes and the body of a refused
request open; this sandbox uses the documented Error object for both, with these codes:

    1001 the FSN is not in the catalog     1101 the SKU is already listed (create)
    1102 the SKU is not listed (update)    1103 product_id differs from the listing's
    2301 selling price above the MRP       2302 selling price or MRP not above 0
    2303 currency is not INR               2401 not one of the seller's locations
    2501 HSN code not 4, 6 or 8 digits     2601 no package dimensions
    4000 an injected per-SKU rejection (its own code when that is a number)

The FSN catalog: by default every well-formed FSN (16 upper-case letters and digits) is taken to
exist, as the demo needs; pass `catalog=` to know only those. Flipkart publishes no rate limits:
the sandbox's are its own stated assumption (sandbox_rules.RATE_LIMITS, never the adapter's
declared limits), configurable (`rate_limits`, per operation, or `rate`/`burst` for all), and a
call beyond them gets 429 with Retry-After, in marketplace seconds scaled by `time_scale`. Every
rule the sandbox applies (paths, sizes, limits, formats, shipment states) is in sandbox_rules
with where it comes from.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response

from adapters.flipkart import sandbox_rules as rules
from adapters.flipkart.sandbox_rules import (
    FSN_RE,
    HSN_RE,
    SEARCH_PAGE,
    SHIPMENTS_PAGE,
    SKU_RE,
    TOKEN_OPERATION,
    WRITES,
)
from odop_sync.adapter_sdk import QueryValidator
from odop_sync.adapter_sdk.sandbox import (
    SandboxBase,
    SchemaValidator,
    Throttle,
    TokenBucketGuard,
    fault_admin_router,
    fault_response,
    specs_dir,
)
from odop_sync.adapter_sdk.sandbox_orders import OrderBook, OrderLife, order_admin_router, stamp

SANDBOX_SELLER = "fk-odop-sandbox"
SANDBOX_LOCATION = "LOCODOPSANDBOX01"
SPEC_FILE = "flipkart-marketplace-api-v3.reconstructed.openapi.json"
ITEM_STATE = {
    "pending": "APPROVED",
    "unshipped": "APPROVED",
    "shipped": "SHIPPED",
    "delivered": "DELIVERED",
    "returned": "RETURNED",
    "cancelled": "CANCELLED",
}
# Demo mode: an order every five marketplace-minutes or so per seller (every 30 s at the demo's
# tenfold time), a tenth of them cancelled within two hours, one in twenty returned later.
DEMO_ORDER_LIFE = OrderLife(orders_per_minute=0.2)
STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorised",
    403: "Forbidden",
    404: "Not found",
    422: "Unprocessable entity",
    429: "Too many requests",
    499: "Connection timed out",
    500: "Internal server error",
    503: "Service unavailable",
    504: "Gateway timeout",
}


@dataclass(frozen=True)
class SandboxApp:
    """The self-access application the sandbox knows, its seller and the seller's locations."""

    app_id: str = "odop-sandbox-app"
    app_secret: str = "sandbox-app-secret-do-not-use"  # noqa: S105 - sandbox only
    seller_id: str = SANDBOX_SELLER
    locations: tuple[str, ...] = (SANDBOX_LOCATION,)


@dataclass
class _Token:
    seller: str
    expires_at: float


@dataclass
class _Verdict:
    errors: list[dict[str, Any]] = field(default_factory=list)
    attribute_errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, code: int, description: str) -> None:
        self.errors.append({"severity": "ERROR", "code": code, "description": description})

    def attribute(self, attribute: str, code: int, description: str) -> None:
        self.attribute_errors.append(
            {"severity": "ERROR", "code": code, "description": description, "attribute": attribute}
        )

    def answer(self) -> dict[str, Any]:
        severities = {e["severity"] for e in self.errors + self.attribute_errors}
        status = "FAILURE" if "ERROR" in severities else "WARNING" if severities else "SUCCESS"
        return {"status": status, "errors": self.errors, "attribute_errors": self.attribute_errors}


def _errors(status: int, description: str, **headers: str) -> JSONResponse:
    body = {"errors": [{"severity": "ERROR", "code": status, "description": description}]}
    return JSONResponse(body, status_code=status, headers=headers)


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _rupees(value: Any) -> int | None:
    return value if isinstance(value, int) else None


class FlipkartSandbox(SandboxBase):
    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        specs: Path | None = None,
        app_credentials: SandboxApp | None = None,
        token_ttl: float = 60 * 86_400.0,
        rate: float | None = None,
        burst: float | None = None,
        rate_limits: Mapping[str, tuple[float, float]] | None = None,
        catalog: Iterable[str] | None = None,
        seed: int | None = None,
        order_life: OrderLife | None = None,
    ) -> None:
        super().__init__(time_scale=time_scale, seed=seed)
        self.credentials = app_credentials or SandboxApp()
        self.token_ttl = token_ttl
        self.catalog = {fsn.upper() for fsn in catalog} if catalog is not None else None
        self._tokens: dict[str, _Token] = {}
        # The SKU count of every write call, per operation (for tests of the 10-SKU batching).
        self.batch_sizes: dict[str, list[int]] = defaultdict(list)
        # The sandbox's own limits (sandbox_rules: Flipkart publishes none), never the adapter's.
        plans = {
            op: (plan[0] if rate is None else rate, plan[1] if burst is None else burst)
            for op, plan in rules.RATE_LIMITS.items()
        }
        plans.update(rate_limits or {})
        self.guard = TokenBucketGuard(plans, self.clock, throttled_response=self._throttled)
        root = specs or specs_dir(__package__ or "adapters.flipkart")
        spec = json.loads((root / SPEC_FILE).read_text("utf-8"))
        self.validators = {
            op: SchemaValidator.for_openapi_body(spec, op)
            for op in [*WRITES, "listingSearch", "searchPreDispatchShipmentPost"]
        }
        self.next_page_query = QueryValidator.for_openapi_operation(
            spec, "searchPreDispatchShipmentGet"
        )
        self.orders = OrderBook(self, self.state, self.clock, life=order_life, seed=seed)
        self.app = self._build_app()

    # conformance handle ---------------------------------------------------------------------

    def issued_secrets(self) -> set[str]:
        return set(self._issued) | {self.credentials.app_secret}

    def expire_tokens(self) -> None:
        """Every access token handed out so far dies now (the API then answers 401)."""
        for token in self._tokens.values():
            token.expires_at = self.clock.monotonic() - 1

    # plumbing -------------------------------------------------------------------------------

    def _throttled(self, operation: str, verdict: Throttle) -> Response:
        wait = max(1, math.ceil(verdict.retry_after))
        return _errors(429, f"Request rate exceeded for {operation}", **{"Retry-After": str(wait)})

    @staticmethod
    def _fault_body(status: int, headers: dict[str, str]) -> Response:
        if status == 401:
            return _oauth_error(401, "invalid_token", "Invalid access token")
        return _errors(status, STATUS_TEXT.get(status, "Error"), **headers)

    async def _enter(self, request: Request, operation: str) -> tuple[str, Response | None]:
        """Faults, bearer token, throttling, in that order."""
        self.state.record_call("", operation)
        faulted = await fault_response(self.faults, self.clock, operation, None, self._fault_body)
        if faulted is not None:
            return "", faulted
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        token = self._tokens.get(presented) if scheme.lower() == "bearer" else None
        if token is None:
            return "", _oauth_error(401, "invalid_token", "Invalid access token")
        if self.clock.monotonic() >= token.expires_at:
            return "", _oauth_error(401, "invalid_token", "Access token expired")
        return token.seller, self.guard.enforce(token.seller, operation)

    async def _json_body(self, request: Request, operation: str) -> tuple[Any, Response | None]:
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None, _errors(400, "The request body is not valid JSON.")
        problems = self.validators[operation].errors(body)
        if problems:
            detail = "; ".join(str(p) for p in problems[:5])
            return None, _errors(400, f"Request does not match the {operation} schema: {detail}")
        return body, None

    def _listing_id(self, seller: str, sku: str) -> str:
        return "LST" + hashlib.sha256(f"{seller}/{sku}".encode()).hexdigest()[:17].upper()

    # per-SKU rules --------------------------------------------------------------------------

    def _check_fsn(self, verdict: _Verdict, fsn: Any) -> None:
        known = self.catalog is None or fsn in self.catalog
        if not isinstance(fsn, str) or not FSN_RE.match(fsn) or not known:
            verdict.attribute(
                "product_id", 1001, f"Product {fsn} does not exist in the Flipkart catalog"
            )

    def _check_price(self, verdict: _Verdict, price: Mapping[str, Any]) -> None:
        selling, mrp = _rupees(price.get("selling_price")), _rupees(price.get("mrp"))
        if price.get("currency") != "INR":
            verdict.attribute("price.currency", 2303, "Currency must be INR")
        if not selling or not mrp:
            verdict.attribute("price.selling_price", 2302, "Price must be greater than 0")
        elif selling > mrp:
            verdict.attribute("price.selling_price", 2301, "Selling price cannot exceed MRP")

    def _check_locations(
        self, verdict: _Verdict, seller: str, locations: Iterable[Mapping[str, Any]]
    ) -> None:
        allowed = self.credentials.locations if seller == self.credentials.seller_id else ()
        for location in locations:
            if location.get("id") not in allowed:
                verdict.attribute(
                    "locations", 2401, f"Location {location.get('id')} is not a seller location"
                )

    def _check_listing(self, verdict: _Verdict, seller: str, entry: Mapping[str, Any]) -> None:
        self._check_fsn(verdict, entry["product_id"])
        self._check_price(verdict, entry["price"])
        self._check_locations(verdict, seller, entry["locations"])
        if not HSN_RE.match(str(entry["tax"].get("hsn", ""))):
            verdict.attribute("tax.hsn", 2501, "HSN must be 4, 6 or 8 digits")
        if not any(p.get("dimensions") for p in entry["packages"]):
            verdict.attribute("packages", 2601, "Package dimensions are required")

    def _check_rejection(
        self, verdict: _Verdict, operation: str, sku: str, entry: Mapping[str, Any]
    ) -> None:
        """An injected rejection hits a full listing write, or an offer write that carries the
        rejected field (a refused price does not refuse the stock)."""
        rejection = self.faults.rejection_for(sku)
        root = rejection.field.split(".", 1)[0] if rejection else ""
        full = operation in ("createListings", "updateListings")
        if rejection is not None and (full or root in entry):
            code = int(rejection.code) if rejection.code.isdigit() else 4000
            verdict.attribute(rejection.field, code, rejection.message)

    # writes ---------------------------------------------------------------------------------

    def _apply(self, operation: str, seller: str, sku: str, entry: dict[str, Any]) -> _Verdict:
        listings = self.state.table(seller, "listings")
        current = listings.get(sku)
        verdict = _Verdict()
        if operation == "createListings" and current is not None:
            verdict.error(1101, f"Listing already exists for SKU {sku}; update it instead")
        elif operation != "createListings" and current is None:
            verdict.error(1102, f"No listing exists for SKU {sku}")
        if operation in ("createListings", "updateListings"):
            self._check_listing(verdict, seller, entry)
        elif current is not None and entry["product_id"] != current["product_id"]:
            verdict.attribute("product_id", 1103, f"SKU {sku} is listed against another product")
        if operation == "updatePrice":
            self._check_price(verdict, entry["price"])
        if operation == "updateInventory":
            self._check_locations(verdict, seller, entry["locations"])
        self._check_rejection(verdict, operation, sku, entry)
        if verdict.answer()["status"] != "FAILURE":
            self._store(seller, sku, current, operation, entry)
        return verdict

    def _store(
        self,
        seller: str,
        sku: str,
        current: dict[str, Any] | None,
        operation: str,
        entry: dict[str, Any],
    ) -> None:
        row = dict(current or {})
        if operation == "updateInventory":
            by_id = {loc["id"]: dict(loc) for loc in row.get("locations", [])}
            for loc in entry["locations"]:
                by_id[loc["id"]] = {**by_id.get(loc["id"], {}), **loc}
            changes: dict[str, Any] = {"locations": list(by_id.values())}
        else:
            changes = {k: v for k, v in entry.items() if k != "product_id" or current is None}
        if current is not None and all(current.get(k) == v for k, v in changes.items()):
            return  # the same again changes nothing (idempotent)
        now = self.clock.utcnow().isoformat()
        row.update(changes)
        row.setdefault("listing_id", self._listing_id(seller, sku))
        row.setdefault("created", now)
        row["updated"] = now
        row["version"] = row.get("version", 0) + 1
        self.state.table(seller, "listings")[sku] = row

    def _detail(self, row: Mapping[str, Any]) -> dict[str, Any]:
        keys = (
            "listing_id", "product_id", "price", "tax", "listing_status", "shipping_fees",
            "fulfillment_profile", "fulfillment", "packages", "locations",
        )  # fmt: skip
        return {k: row[k] for k in keys if k in row} | {"archived_status": "NONE"}

    # orders (the OrderShop the generator sells from, and the shipment search) ----------------

    def order_skus(self, seller: str) -> list[str]:
        return list(self.state.table(seller, "listings"))

    def stock(self, seller: str, sku: str) -> tuple[int, int] | None:
        row = self.state.table(seller, "listings").get(sku)
        selling = _rupees(((row or {}).get("price") or {}).get("selling_price"))
        if row is None or selling is None:
            return None
        locations = row.get("locations") or [{}]
        return int(locations[0].get("inventory") or 0), selling * 100

    def adjust_stock(self, seller: str, sku: str, delta: int) -> None:
        listings = self.state.table(seller, "listings")
        row = listings.get(sku)
        if row is None or not row.get("locations"):
            return
        location = row["locations"][0]
        location["inventory"] = max(0, int(location.get("inventory") or 0) + delta)
        listings[sku] = row

    def new_order_id(self, seller: str, number: int) -> str:
        return f"OD{zlib.crc32(seller.encode()) % 10**6:06d}{number:012d}"

    def _shipment(self, seller: str, order: Mapping[str, Any]) -> dict[str, Any]:
        """A book order as one shipment of the shipment search."""
        listings = self.state.table(seller, "listings")
        state = ITEM_STATE[order["status"]]
        created = datetime.fromisoformat(order["created"])
        items = []
        for line in order["lines"]:
            row = listings.get(line["sku"]) or {}
            total = Decimal(line["unitPrice"] * line["quantity"]) / 100
            amount = int(total) if total == total.to_integral_value() else float(total)
            item: dict[str, Any] = {
                "orderItemId": line["id"],
                "orderId": order["id"],
                "cancellationGroupId": f"grp{line['id']}",
                "orderDate": order["created"],
                "paymentType": "PREPAID",
                "status": state,
                "quantity": line["quantity"],
                "fsn": row.get("product_id"),
                "sku": line["sku"],
                "listingId": row.get("listing_id"),
                "hsn": (row.get("tax") or {}).get("hsn"),
                "priceComponents": {
                    "sellingPrice": amount,
                    "totalPrice": amount,
                    "shippingCharge": 0,
                    "customerPrice": amount,
                    "flipkartDiscount": 0,
                },
                "serviceProfile": "NON_FBF",
                "is_replacement": False,
            }
            if state == "CANCELLED":
                item["cancellationDate"] = order["updated"]
                item["cancellationReason"] = "Buyer cancelled"
            items.append({k: v for k, v in item.items() if v is not None})
        return {
            "shipmentId": f"SHP{order['id'][2:]}",
            "dispatchByDate": stamp(created + timedelta(days=2)),
            "dispatchAfterDate": order["created"],
            "updatedAt": order["updated"],
            "locationId": self.credentials.locations[0],
            "hold": False,
            "mps": False,
            "packagingPolicy": "DEFAULT",
            "subShipments": [],
            "orderItems": items,
            "forms": [],
            "shipmentType": "NORMAL",
        }

    def _search_shipments(
        self, seller: str, query: Mapping[str, Any], key: tuple[str, str] | None
    ) -> Response:
        """One page of the search `query` (a validated request body) after `key`."""
        wanted = query["filter"]
        kind = wanted["type"]
        states = set(wanted.get("states") or rules.FILTER_STATES[kind])
        strays = sorted(states - set(rules.FILTER_STATES[kind]))
        if strays:
            return _errors(400, f"States {', '.join(strays)} are not {kind} states")
        try:
            modified = _range(wanted.get("modifiedDate"))
            ordered = _range(wanted.get("orderDate"))
        except ValueError:
            return _errors(400, "Dates must be ISO 8601 date-times with a time zone")
        size = (query.get("pagination") or {}).get("pageSize") or SHIPMENTS_PAGE
        if size < 1:
            return _errors(400, "pageSize must be at least 1")
        skus = set(wanted.get("sku") or ())

        def keep(order: Mapping[str, Any]) -> bool:
            if ITEM_STATE[order["status"]] not in states:
                return False
            if skus and not skus & {line["sku"] for line in order["lines"]}:
                return False
            return bool(ordered[0] <= order["created"] <= ordered[1])

        page, following = self.orders.changed(
            seller,
            after=modified[0],
            before=modified[1] if modified[1] != _END else None,
            key=key,
            limit=min(size, SHIPMENTS_PAGE),
            keep=keep,
        )
        body: dict[str, Any] = {
            "hasMore": following is not None,
            "shipments": [self._shipment(seller, order) for order in page],
        }
        if following is not None:
            token = {"q": query, "k": list(following)}
            encoded = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
            body["nextPageUrl"] = f"{rules.SHIPMENTS_FILTER}?next_token={encoded}"
        return JSONResponse(body)

    # app ------------------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(
            title="Flipkart Seller API sandbox (odop-sync)", docs_url=None, redoc_url=None
        )
        app.state.sandbox = self
        app.include_router(fault_admin_router(self.faults))
        app.include_router(order_admin_router(self.orders))
        sandbox = self

        @app.get(rules.TOKEN_PATH)
        async def token(request: Request) -> Response:
            sandbox.state.record_call("", TOKEN_OPERATION)
            faulted = await fault_response(
                sandbox.faults, sandbox.clock, TOKEN_OPERATION, None, sandbox._fault_body
            )
            if faulted is not None:
                return faulted
            creds = sandbox.credentials
            scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
            try:
                app_id, _, secret = base64.b64decode(encoded).decode().partition(":")
            except ValueError:
                app_id = secret = ""
            if scheme.lower() != "basic" or (app_id, secret) != (creds.app_id, creds.app_secret):
                return _oauth_error(401, "unauthorized", "Bad credentials")
            params = request.query_params
            if params.get("grant_type") != "client_credentials":
                return _oauth_error(
                    400, "unsupported_grant_type", "grant_type must be client_credentials"
                )
            scopes = {s.strip() for s in params.get("scope", "").split(",")}
            if rules.SELLER_SCOPE not in scopes:
                return _oauth_error(400, "invalid_scope", "scope must include Seller_Api")
            access = secrets.token_hex(16)
            expires = sandbox.clock.monotonic() + sandbox.token_ttl
            sandbox._tokens[access] = _Token(creds.seller_id, expires)
            sandbox._issued.add(access)
            return JSONResponse(
                {
                    "access_token": access,
                    "token_type": "bearer",
                    "expires_in": int(sandbox.token_ttl),
                    "scope": rules.SELLER_SCOPE,
                }
            )

        def write_route(operation: str) -> Callable[[Request], Any]:
            async def write(request: Request) -> Response:
                seller, refused = await sandbox._enter(request, operation)
                if refused is not None:
                    return refused
                body, invalid = await sandbox._json_body(request, operation)
                if invalid is not None:
                    return invalid
                if len(body) > rules.MAX_SKUS_PER_CALL:
                    return _errors(
                        400, f"At most {rules.MAX_SKUS_PER_CALL} SKUs per request, got {len(body)}"
                    )
                sandbox.batch_sizes[operation].append(len(body))
                return JSONResponse(
                    {
                        sku: sandbox._apply(operation, seller, sku, entry).answer()
                        for sku, entry in body.items()
                    }
                )

            return write

        for operation, suffix in WRITES.items():
            app.add_api_route(
                rules.LISTINGS + suffix, write_route(operation), methods=["POST"], name=operation
            )

        @app.post(rules.LISTINGS + "/search")
        async def search(request: Request) -> Response:
            seller, refused = await sandbox._enter(request, "listingSearch")
            if refused is not None:
                return refused
            body, invalid = await sandbox._json_body(request, "listingSearch")
            if invalid is not None:
                return invalid
            wanted = (body.get("filters") or {}).get("lisitng_status")
            rows = sorted(sandbox.state.table(seller, "listings").items())
            rows = [(s, r) for s, r in rows if wanted in (None, r.get("listing_status"))]
            try:
                start = int(base64.urlsafe_b64decode(body.get("page_id") or "MA==").decode())
            except ValueError:
                return _errors(400, "page_id is not one this API handed out")
            page = rows[start : start + SEARCH_PAGE]
            more = start + SEARCH_PAGE < len(rows)
            answer: dict[str, Any] = {
                "has_more": more,
                "listings": [
                    {"listing_id": r["listing_id"], "product_id": r["product_id"], "sku_id": s}
                    for s, r in page
                ],
            }
            if more:
                answer["next_page_id"] = base64.urlsafe_b64encode(
                    str(start + SEARCH_PAGE).encode()
                ).decode()
            return JSONResponse(answer)

        @app.get(rules.LISTINGS + "/{sku_ids}")
        async def get_listings(sku_ids: str, request: Request) -> Response:
            seller, refused = await sandbox._enter(request, "getListings")
            if refused is not None:
                return refused
            skus = [s for s in sku_ids.split(",") if s]
            if not skus or len(skus) > rules.MAX_SKUS_PER_CALL:
                return _errors(400, f"Give 1 to {rules.MAX_SKUS_PER_CALL} SKU ids")
            listings = sandbox.state.table(seller, "listings")
            answer: dict[str, Any] = {"available": {}, "unavailable": [], "invalid": []}
            for sku in skus:
                if not SKU_RE.match(sku):
                    answer["invalid"].append(sku)
                elif sku in listings:
                    answer["available"][sku] = sandbox._detail(listings[sku])
                else:
                    answer["unavailable"].append(sku)
            return JSONResponse(answer)

        @app.post(rules.SHIPMENTS_FILTER)
        async def search_shipments(request: Request) -> Response:
            seller, refused = await sandbox._enter(request, "searchPreDispatchShipmentPost")
            if refused is not None:
                return refused
            body, invalid = await sandbox._json_body(request, "searchPreDispatchShipmentPost")
            if invalid is not None:
                return invalid
            if not isinstance(body.get("filter"), dict):
                return _errors(400, "filter is required")
            return sandbox._search_shipments(seller, body, None)

        @app.get(rules.SHIPMENTS_FILTER)
        async def next_shipments(request: Request) -> Response:
            seller, refused = await sandbox._enter(request, "searchPreDispatchShipmentGet")
            if refused is not None:
                return refused
            values, problems = sandbox.next_page_query.parse(request.query_params.multi_items())
            if problems or "next_token" not in values:
                return _errors(400, "next_token is required and nothing else")
            try:
                token = json.loads(base64.urlsafe_b64decode(values["next_token"]))
                query, key = token["q"], (str(token["k"][0]), str(token["k"][1]))
            except (ValueError, KeyError, TypeError, IndexError):
                return _errors(400, "next_token is not one this API handed out")
            return sandbox._search_shipments(seller, query, key)

        @app.get("/_sandbox/state/{seller_id}")
        async def state(seller_id: str) -> Response:
            listings = sandbox.state.table(seller_id, "listings")
            return JSONResponse(
                {
                    "sellerId": seller_id,
                    "listings": [_public(sku, row) for sku, row in sorted(listings.items())],
                    "calls": {op: n for (_, op), n in sandbox.state.calls.items()},
                    "batchSizes": dict(sandbox.batch_sizes),
                    "throttled": dict(sandbox.guard.throttled),
                    "orders": sandbox.orders.public(seller_id),
                }
            )

        return app


_START, _END = "0000", "9999"


def _range(dates: Mapping[str, Any] | None) -> tuple[str, str]:
    """A DateFilter as (from, to) stamps comparable with the order book's; open ends open."""
    bounds = []
    for name, open_end in (("from", _START), ("to", _END)):
        value = (dates or {}).get(name)
        if value is None:
            bounds.append(open_end)
            continue
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError("no time zone")
        bounds.append(stamp(moment))
    return bounds[0], bounds[1]


def _public(sku: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A listing as the state endpoint shows it; price and MRP in rupees, as strings."""
    locations = row.get("locations") or [{}]
    fulfillment = row.get("fulfillment") or {}
    return {
        "sku": sku,
        "fsn": row.get("product_id"),
        "listingId": row.get("listing_id"),
        "status": row.get("listing_status"),
        "price": str(row["price"]["selling_price"]),
        "mrp": str(row["price"]["mrp"]),
        "quantity": locations[0].get("inventory"),
        "location": locations[0].get("id"),
        "procurementType": fulfillment.get("procurement_type"),
        "dispatchSla": fulfillment.get("dispatch_sla"),
        "hsn": (row.get("tax") or {}).get("hsn"),
        "packages": row.get("packages"),
        "version": row.get("version"),
    }


def create_sandbox_app(time_scale: float = 1.0, **options: Any) -> FastAPI:
    """The ASGI app; `app.state.sandbox` is the FlipkartSandbox behind it (faults, clock, state).
    Served on its own or in demo mode it generates orders slowly (DEMO_ORDER_LIFE) unless
    `order_life` says otherwise."""
    options.setdefault("order_life", DEMO_ORDER_LIFE)
    return FlipkartSandbox(time_scale=time_scale, **options).app


def demo_credentials() -> dict[str, Any]:
    """Account credentials for a demo account of this sandbox. They name no host: the operator
    stands the sandbox in for Flipkart's hosts (settings: marketplace_hosts; demo mode does it for
    the sandboxes it mounts). These are the sandbox's own published values, not secrets of any
    real seller."""
    app = SandboxApp()
    return {
        "app_id": app.app_id,
        "app_secret": app.app_secret,
        "location_id": app.locations[0],
    }
