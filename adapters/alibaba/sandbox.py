"""An Alibaba.com (ICBU seller API) GOP gateway simulator for loopback, built from the project's
protocol reference (PROTOCOL.md; as OpenAPI in specs/icbu-gop.openapi.json) and, where that leaves
a choice, the project's Alibaba.com contract note. It never imports the adapter it judges.

Addressing (§3.1): `POST /rest<api_path>` or bare `POST /rest` with the path in `method` (both at
once too: they must then agree, else InvalidApiPath), GET with the same fields in the query;
form-encoded, multipart for the photobank upload. Every call is checked in this order:

1. faults injected for its operation (`/_sandbox/faults`; operation names are the document's
   operationIds: productSchemaAdd, productList, orderList, …);
2. app_key (MissingParameter, InvalidAppKey); sign present, sign_method sha256 and the
   signature of §4.1 (IncompleteSignature) — before anything else about the fields, so a byte
   changed in any field but app_key is an IncompleteSignature (a path not starting with "/",
   i.e. a TOP-style dotted name, is InvalidApiPath before that: GOP does not sign those);
3. the path (InvalidApiPath), the optional X-Protocol header; the timestamp: 13-digit epoch
   ms within 7200 s (configurable) of the gateway's clock (InvalidTimestamp). The gateway's
   clock is either the wall clock or the sandbox's scaled one: a client signing with either
   is on time (a time-scaled sandbox cannot ask clients to know its accelerated time, I);
4. the access token of every seller API (MissingParameter, IllegalAccessToken: unknown,
   another app's or expired on the sandbox clock);
5. the rate limit per app key and seller (ApiCallLimit, HTTP 200, as the contract note says:
   10 calls a second, burst 10, by default; in marketplace seconds, so time-scaled);
6. the business parameters against the document's request schema (sandbox_spec:
   MissingParameter, InvalidParameter), then the operation itself.

Operations served: token create/refresh (sandbox_tokens), category get, schema get / render /
level get / add / update (sandbox_publish, sandbox_schema, sandbox_categories.toml), product
list / get, update display, inventory get / update, photobank upload (sandbox_products), order
list / get (sandbox_trade). The document's other operations (fund, logistics, shipping, RFQ)
answer InvalidApiPath: this sandbox does not serve them.

Control: `/_sandbox/state/{seller}` (listings by red_model with id, display, inventory, tiers,
category; orders; calls), `/_sandbox/faults` (the toolkit's faults: 5xx → ISP
ServiceUnavailable with that HTTP status, 429 → ApiCallLimit with Retry-After, 401 →
IllegalAccessToken, 403 → InsufficientIsvPermissions, in HTTP 200 instead after `PUT
/_sandbox/fault-status {"http_status": false}`; timeouts, hangs, dropped connections;
`/rejections` per red_model), `/_sandbox/orders/{seller}` (place, `generate`, and move orders:
the toolkit's confirm/ship/deliver/cancel/return plus pay/receive/close), `/_sandbox/codes/
{seller}` (a one-time authorization code), `/_sandbox/tokens/expire`, `/_sandbox/reset`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from adapters.alibaba.sandbox_gateway import (
    BAD_ACCESS_TOKEN,
    BAD_APP_KEY,
    BAD_PATH,
    BAD_SIGNATURE,
    BAD_TIMESTAMP,
    CALL_LIMIT,
    DEFAULT_SKEW,
    LIMIT_MESSAGE,
    MISSING,
    SIGN_METHOD,
    SIGNATURE_MESSAGE,
    Call,
    GopError,
    fault_error,
    millis,
    ok,
    read_call,
    refusal,
    signature_matches,
)
from adapters.alibaba.sandbox_products import ProductStore
from adapters.alibaba.sandbox_publish import Publisher
from adapters.alibaba.sandbox_schema import CategoryTree
from adapters.alibaba.sandbox_spec import SPEC_FILE, GatewaySpec, Operation
from adapters.alibaba.sandbox_tokens import Seller, TokenDesk
from adapters.alibaba.sandbox_trade import TRADE_LIFE, TradeBook, TradeDesk, order_id
from odop_sync.adapter_sdk import OrderStatus
from odop_sync.adapter_sdk.sandbox import (
    SandboxBase,
    TokenBucketGuard,
    fault_admin_router,
    fault_response,
    specs_dir,
)
from odop_sync.adapter_sdk.sandbox_orders import OrderLife, OrderRejectedError, order_admin_router

# contract note, "Demo credentials": the sandbox's own published values, not anyone's secrets.
APP_KEY = "ODOP-DEMO-APP"
APP_SECRET = "odop-demo-app-secret-not-for-production"  # noqa: S105 - the sandbox's own
SANDBOX_SELLER = "ODOPDEMO01"
SANDBOX_LOGIN = "odop-demo-seller@example.test"
DEMO_REFRESH_TOKEN = "ODOP-DEMO-REFRESH"  # noqa: S105 - the sandbox's own
DEMO_CODE = "ODOP-DEMO-CODE"
# contract note, "Limits": not documented (§6); the sandbox's default.
DEFAULT_RATE = 10.0
DEFAULT_BURST = 10.0
TOKEN_OPERATIONS = frozenset({"tokenCreate", "tokenRefresh"})
# Demo mode: an order every five marketplace-minutes or so per seller, as the other sandboxes.
DEMO_ORDER_LIFE = OrderLife(**{**TRADE_LIFE.__dict__, "orders_per_minute": 0.2})

Handler = Callable[["Caller", dict[str, Any], Call], Awaitable[dict[str, Any]]]


class Caller:
    def __init__(self, app_key: str, seller: str) -> None:
        self.app_key = app_key
        self.seller = seller


class _FaultStatus(BaseModel):
    http_status: bool


class _Generate(BaseModel):
    count: int = Field(default=1, ge=1, le=500)


class AlibabaSandbox(SandboxBase):
    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        seed: int | None = None,
        specs: Path | None = None,
        apps: Mapping[str, str] | None = None,
        access_life: float | None = None,
        refresh_life: float | None = None,
        timestamp_skew: float = DEFAULT_SKEW,
        rate: float = DEFAULT_RATE,
        burst: float = DEFAULT_BURST,
        order_life: OrderLife | None = None,
        fault_status: bool = True,
    ) -> None:
        super().__init__(time_scale=time_scale, seed=seed)
        self.apps = dict(apps or {APP_KEY: APP_SECRET})
        self.timestamp_skew = timestamp_skew
        # Injected STATUS faults answer with their HTTP status; False: HTTP 200 with the same
        # envelope, as the gateway mostly answers errors (PROTOCOL §5.2). Retry-After either way.
        self.fault_status = fault_status
        lives = {"access_life": access_life, "refresh_life": refresh_life}
        self.tokens = TokenDesk(self.clock, **{k: v for k, v in lives.items() if v is not None})
        self.tokens.sellers[SANDBOX_SELLER] = Seller(SANDBOX_SELLER, SANDBOX_LOGIN)
        for app_key in self.apps:
            self.tokens.standing(
                app_key, SANDBOX_SELLER, code=DEMO_CODE, refresh_token=DEMO_REFRESH_TOKEN
            )
        root = specs or specs_dir(__package__ or "adapters.alibaba")
        self.spec = GatewaySpec(json.loads((root / SPEC_FILE).read_text("utf-8")))
        self.tree = CategoryTree()
        self.products = ProductStore(self.state, self.clock, self.tree)
        self.publisher = Publisher(self.tree, self.products, self.faults)
        self.orders = TradeBook(
            self, self.state, self.clock, life=order_life or TRADE_LIFE, seed=seed
        )
        self.trade = TradeDesk(self.orders)
        self.guard = TokenBucketGuard({"*": (rate, burst)}, self.clock)
        self.throttled: Counter[str] = Counter()
        self.handlers = self._handlers()
        self.app = self._build_app()

    # conformance handle and test helpers ------------------------------------------------------

    def listing_skus(self, account: str) -> set[str]:
        return self.products.skus(account)

    def issued_secrets(self) -> set[str]:
        return set(self._issued) | self.tokens.issued() | set(self.apps.values())

    def expire_tokens(self) -> None:
        """Every access token handed out so far dies now (calls then get IllegalAccessToken)."""
        self.tokens.expire_access()

    def reset(self) -> None:
        self.state.clear()
        self.products.reset()
        self.orders.reset()
        self.faults.clear()
        self.guard.reset()
        self.throttled.clear()

    # the OrderShop the trade book sells from ------------------------------------------------

    def _live(self, seller: str, sku: str) -> dict[str, Any] | None:
        live = [r for r in self.products.by_sku(seller, sku) if r["display"] == "Y"]
        return next((r for r in reversed(live) if r["status"] == "approved"), None)

    def order_skus(self, seller: str) -> list[str]:
        return sorted(s for s in self.products.skus(seller) if self._live(seller, s))

    def stock(self, seller: str, sku: str) -> tuple[int, int] | None:
        row = self._live(seller, sku)
        moq = self.moq(seller, sku)
        price = self.orders.tier_price(seller, sku, moq or 1)
        return None if row is None or price is None else (int(row["inventory"]), price)

    def adjust_stock(self, seller: str, sku: str, delta: int) -> None:
        row = self.product_for(seller, sku)
        if row is not None:
            self.products.set_stock(seller, row, int(row["inventory"]) + delta)

    def new_order_id(self, seller: str, number: int) -> str:
        return order_id(seller, number)

    def tiers(self, seller: str, sku: str) -> list[dict[str, str]]:
        row = self._live(seller, sku)
        return list(row["values"].get("bulk_discount_prices", [])) if row else []

    def moq(self, seller: str, sku: str) -> int | None:
        row = self._live(seller, sku)
        text = str(row["values"].get("min_order_quantity", "")) if row else ""
        return int(text) if text.isdigit() else None

    def product_for(self, seller: str, sku: str) -> dict[str, Any] | None:
        rows = self.products.by_sku(seller, sku)
        return self._live(seller, sku) or (rows[-1] if rows else None)

    # the gateway ------------------------------------------------------------------------------

    def _fault_body(self, status: int, headers: dict[str, str]) -> Response:
        response = refusal(fault_error(status, headers))
        if not self.fault_status:
            response.status_code = 200
        return response

    def _on_time(self, text: str) -> bool:
        sent = millis(text)
        if sent is None:
            return False
        clocks = (time.time(), self.clock.utcnow().timestamp())
        return any(abs(sent / 1000 - now) <= self.timestamp_skew for now in clocks)

    def _admit(self, call: Call, operation: Operation | None) -> Caller:
        """Steps 2-4 of the module docstring."""
        fields = call.fields
        app_key = fields.get("app_key")
        if app_key is None:
            raise GopError(MISSING, "app_key is required")
        secret = self.apps.get(app_key)
        if secret is None:
            raise GopError(BAD_APP_KEY, f"app_key {app_key} is not a known application")
        if "sign" not in fields:
            raise GopError(BAD_SIGNATURE, f"{SIGNATURE_MESSAGE}: sign is missing")
        if "sign_method" not in fields:
            raise GopError(MISSING, "sign_method is required")
        if fields["sign_method"] != SIGN_METHOD:
            raise GopError(BAD_SIGNATURE, f"{SIGNATURE_MESSAGE}: sign_method must be sha256")
        path = call.api_path
        if path is None:
            raise GopError(MISSING, "method is required when calling /rest without a path")
        if not path.startswith("/"):  # a TOP-style dotted name (§4.1 step 4): not GOP's
            raise GopError(BAD_PATH, f"{path} is not a GOP API path (they start with /)")
        if not signature_matches(secret, path, fields):
            raise GopError(BAD_SIGNATURE, SIGNATURE_MESSAGE)
        method = fields.get("method")
        if method is not None and call.url_path is not None and method != call.url_path:
            raise GopError(BAD_PATH, f"method {method} differs from the URL path {call.url_path}")
        if operation is None or operation.operation_id not in self.handlers:
            raise GopError(BAD_PATH, f"{path} is not an API this gateway serves")
        self.spec.check_protocol(operation, call.protocol)
        if not self._on_time(fields.get("timestamp", "")):
            raise GopError(
                BAD_TIMESTAMP,
                f"timestamp must be epoch milliseconds within {self.timestamp_skew:g} s",
            )
        if operation.operation_id in TOKEN_OPERATIONS:
            return Caller(app_key, "")
        token = fields.get("access_token")
        if token is None:
            raise GopError(MISSING, "access_token is required")
        seller = self.tokens.seller_of(app_key, token)
        if seller is None:
            raise GopError(BAD_ACCESS_TOKEN, "the access token is invalid or expired")
        return Caller(app_key, seller)

    async def handle(self, request: Request, url_path: str | None) -> Response:
        """One call to the gateway (steps 1-6 of the module docstring)."""
        try:
            call = await read_call(request, url_path)
        except GopError as error:
            return refusal(error)
        operation = self.spec.operations.get(call.api_path or "")
        name = operation.operation_id if operation else "unknown"
        holder = self.tokens.holder(call.fields.get("access_token"))
        self.state.record_call(holder or "", name)
        faulted = await fault_response(self.faults, self.clock, name, holder, self._fault_body)
        if faulted is not None:
            return faulted
        try:
            caller = self._admit(call, operation)
            assert operation is not None  # noqa: S101 - _admit refuses an unknown path
            if not self.guard.check(f"{caller.app_key}/{caller.seller}", "*").allowed:
                self.throttled[name] += 1
                raise GopError(CALL_LIMIT, LIMIT_MESSAGE)
            params = operation.parse(call.fields, call.files)
            return ok(await self.handlers[name](caller, params, call))
        except GopError as error:
            return refusal(error)

    # the operations ---------------------------------------------------------------------------

    def _handlers(self) -> dict[str, Handler]:
        products, publisher, trade = self.products, self.publisher, self.trade

        async def token_create(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            return self._issue(self.tokens.create(c.app_key, p["code"]))

        async def token_refresh(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            return self._issue(self.tokens.refresh(c.app_key, p["refresh_token"]))

        async def product_list(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            return products.list_page(c.seller, p)

        async def product_get(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            wanted = p["product_get_request"]["productId"]
            return {"product": products.detail(products.get(c.seller, wanted))}

        async def schema_get(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            return publisher.schema(p)

        async def schema_render(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            return publisher.render(c.seller, p)

        async def schema_level(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            return publisher.level(p)

        async def schema_add(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            return await publisher.add(c.seller, p)

        async def schema_update(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            return await publisher.update(c.seller, p)

        async def display(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            return products.display(c.seller, p["product_id_list"], p["new_display"])

        async def inventory_get(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            wanted = p["inventory_get_request"].get("productId")
            if wanted is None:
                raise GopError(MISSING, "inventory_get_request.productId is required")
            return products.inventory(c.seller, wanted)

        async def inventory_update(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            return self._inventory_update(c.seller, p["request_param"])

        async def category(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            return publisher.category(p)

        async def upload(c: Caller, p: dict[str, Any], call: Call) -> dict[str, Any]:
            data = await call.files["image_bytes"].read()
            return products.upload(c.seller, p["file_name"], data, p.get("group_id"))

        async def order_list(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            return trade.list_page(c.seller, p)

        async def order_get(c: Caller, p: dict[str, Any], _: Call) -> dict[str, Any]:
            return trade.get(c.seller, p["e_trade_id"])

        return {
            "tokenCreate": token_create,
            "tokenRefresh": token_refresh,
            "productList": product_list,
            "productGet": product_get,
            "productSchemaGet": schema_get,
            "productSchemaRender": schema_render,
            "productSchemaLevelGet": schema_level,
            "productSchemaAdd": schema_add,
            "productSchemaUpdate": schema_update,
            "productUpdateDisplay": display,
            "productInventoryGet": inventory_get,
            "productInventoryUpdate": inventory_update,
            "categoryGet": category,
            "photobankUpload": upload,
            "orderList": order_list,
            "orderGet": order_get,
        }

    def _issue(self, tokens: dict[str, Any]) -> dict[str, Any]:
        self._issued.update((tokens["access_token"], tokens["refresh_token"]))
        return tokens

    def _inventory_update(self, seller: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """An injected rejection of field inventory/quantity/stock refuses a product's stock."""
        row, _ = self.products.find(seller, request["product_id"])
        sku = str(row["values"].get("red_model", "")) if row else ""
        rejection = self.faults.rejection_for(sku)
        if rejection is not None and rejection.field in ("inventory", "quantity", "stock"):
            message = f"{rejection.field}: {rejection.message} (red_model {sku})"
            return {"result": {"success": False, "msg_code": rejection.code, "message": message}}
        return self.products.change_inventory(seller, request)

    # state ------------------------------------------------------------------------------------

    def state_of(self, seller: str) -> dict[str, Any]:
        rows = sorted(
            self.products.rows(seller), key=lambda r: (str(r["values"].get("red_model")), r["id"])
        )
        return {
            "sellerId": seller,
            "listings": [self.products.public(row) for row in rows],
            "photobank": sorted(self.state.table(seller, "photobank")),
            "orders": self.orders.public(seller),
            "calls": {op: n for (s, op), n in self.state.calls.items() if s in ("", seller)},
            "throttled": dict(self.throttled),
        }

    # app --------------------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Alibaba.com GOP sandbox (odop-sync)", docs_url=None, redoc_url=None)
        app.state.sandbox = self
        sandbox = self

        @app.api_route("/rest", methods=["GET", "POST"])
        async def bare(request: Request) -> Response:
            return await sandbox.handle(request, None)

        @app.api_route("/rest/{api_path:path}", methods=["GET", "POST"])
        async def by_path(api_path: str, request: Request) -> Response:
            return await sandbox.handle(request, api_path)

        @app.get("/_sandbox/state/{seller}")
        async def state(seller: str) -> Response:
            return JSONResponse(sandbox.state_of(seller))

        @app.post("/_sandbox/codes/{seller}", status_code=201)
        async def code(seller: str, app_key: str = APP_KEY) -> Response:
            if app_key not in sandbox.apps:
                return JSONResponse({"error": f"unknown app_key {app_key}"}, status_code=404)
            return JSONResponse({"code": sandbox.tokens.issue_code(app_key, seller)}, 201)

        @app.put("/_sandbox/fault-status")
        async def fault_status(spec: _FaultStatus) -> Response:
            sandbox.fault_status = spec.http_status
            return JSONResponse({"http_status": sandbox.fault_status})

        @app.post("/_sandbox/tokens/expire", status_code=204)
        async def expire() -> Response:
            sandbox.expire_tokens()
            return Response(status_code=204)

        @app.post("/_sandbox/reset", status_code=204)
        async def reset() -> Response:
            sandbox.reset()
            return Response(status_code=204)

        @app.post("/_sandbox/orders/{seller}/generate", status_code=201)
        async def generate(seller: str, spec: _Generate) -> Response:
            made = sandbox.orders.generate(seller, spec.count)
            return JSONResponse({"orders": [o["id"] for o in made]}, status_code=201)

        def move(status: OrderStatus) -> Callable[[str, str], Awaitable[Response]]:
            async def moved(seller: str, trade_id: str) -> Response:
                try:
                    return JSONResponse(sandbox.orders.act(seller, trade_id, status))
                except OrderRejectedError as exc:
                    return JSONResponse({"error": exc.message}, status_code=exc.status)

            return moved

        for action, status in (
            ("pay", OrderStatus.UNSHIPPED),
            ("receive", OrderStatus.DELIVERED),
            ("close", OrderStatus.CANCELLED),
        ):
            app.add_api_route(
                f"/_sandbox/orders/{{seller}}/{{trade_id}}/{action}", move(status), methods=["POST"]
            )
        app.include_router(order_admin_router(self.orders))
        app.include_router(fault_admin_router(self.faults))
        return app


def create_sandbox_app(time_scale: float = 1.0, **options: Any) -> FastAPI:
    """The ASGI app; `app.state.sandbox` is the AlibabaSandbox behind it (faults, clock, state).
    Served on its own or in demo mode it generates orders slowly (DEMO_ORDER_LIFE) unless
    `order_life` says otherwise."""
    options.setdefault("order_life", DEMO_ORDER_LIFE)
    return AlibabaSandbox(time_scale=time_scale, **options).app


def demo_credentials() -> dict[str, Any]:
    """Account credentials for the demo account of this sandbox (contract note): they name no
    host (the operator stands the sandbox in for Alibaba.com's hosts). The sandbox's own
    published values, not secrets of any real seller."""
    return {"app_key": APP_KEY, "app_secret": APP_SECRET, "refresh_token": DEMO_REFRESH_TOKEN}
