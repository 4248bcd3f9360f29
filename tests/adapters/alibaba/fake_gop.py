"""A small GOP gateway for the adapter's unit tests, behind respx: it checks every call's
signature the way PROTOCOL §4.1 states it (recomputed here, not with the adapter's signer), the
access token, and keeps just enough product, stock and order state to answer. The full simulator
is adapters/alibaba/sandbox.py; this one lets a test script each answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

import httpx
import respx
from defusedxml import ElementTree as SafeET

ORIGIN = "https://openapi-api.alibaba.com"
APP_KEY = "TEST-APP"
APP_SECRET = "test-app-secret-0123"
REFRESH = "RT-1"
CODE = "AUTH-CODE-1"

# A rules document as the contract note writes one (adapters/alibaba/CONTRACT.md), for the carpets
# category: the standard fields and the category's attributes.
CARPET_RULES = """<itemSchema>
  <field id="subject" name="Product Name" type="input">
    <rules><rule name="requiredRule" value="true"/><rule name="maxLengthRule" value="128"/></rules>
  </field>
  <field id="description" name="Description" type="input"/>
  <field id="keywords" name="Keywords" type="multiInput">
    <rules><rule name="maxItemsRule" value="3"/></rules>
  </field>
  <field id="red_model" name="Model Number" type="input">
    <rules><rule name="requiredRule" value="true"/></rules>
  </field>
  <field id="main_image" name="Product Images" type="multiInput">
    <rules><rule name="requiredRule" value="true"/></rules>
  </field>
  <field id="product_type" name="Product Type" type="singleCheck">
    <options><option displayName="Wholesale" value="wholesale"/>
      <option displayName="Sourcing" value="sourcing"/></options>
  </field>
  <field id="fob_currency" name="Currency" type="singleCheck">
    <options><option displayName="USD" value="USD"/></options>
  </field>
  <field id="min_order_quantity" name="Minimum Order Quantity" type="input">
    <rules><rule name="requiredRule" value="true"/></rules>
  </field>
  <field id="min_order_unit_type" name="Unit" type="singleCheck">
    <rules><rule name="requiredRule" value="true"/></rules>
    <options><option displayName="Piece/Pieces" value="Piece/Pieces"/>
      <option displayName="Square Meter/Square Meters" value="Square Meter/Square Meters"/>
    </options>
  </field>
  <field id="bulk_discount_prices" name="Price by quantity" type="multiComplex">
    <rules><rule name="requiredRule" value="true"/><rule name="maxItemsRule" value="4"/></rules>
    <fields><field id="start_quantity" type="input"/><field id="price" type="input"/></fields>
  </field>
  <field id="supply_quantity" name="Supply Ability" type="input"/>
  <field id="supply_unit_type" name="Supply Unit" type="singleCheck">
    <options><option displayName="Piece/Pieces" value="Piece/Pieces"/></options>
  </field>
  <field id="supply_period_type" name="Supply Period" type="singleCheck">
    <options><option displayName="Month" value="Month"/><option displayName="Week" value="Week"/>
    </options>
  </field>
  <field id="deliver_periods" name="Lead Time" type="multiComplex">
    <fields><field id="quantity" type="input"/><field id="process_period" type="input"/></fields>
  </field>
  <field id="delivery_port" name="Port" type="input"/>
  <field id="payment_methods" name="Payment Terms" type="multiCheck">
    <options><option displayName="T/T" value="T/T"/><option displayName="L/C" value="L/C"/>
    </options>
  </field>
  <field id="attr_1001" name="Material" type="input">
    <rules><rule name="requiredRule" value="true"/></rules>
  </field>
  <field id="attr_1002" name="Technics" type="singleCheck">
    <rules><rule name="requiredRule" value="true"/></rules>
    <options><option displayName="Hand Knotted" value="Hand Knotted"/>
      <option displayName="Hand Tufted" value="Hand Tufted"/>
      <option displayName="Handwoven" value="Handwoven"/></options>
  </field>
  <field id="attr_1003" name="Place of Origin" type="singleCheck">
    <rules><rule name="requiredRule" value="true"/></rules>
    <options><option displayName="India" value="India"/><option displayName="China" value="China"/>
    </options>
  </field>
</itemSchema>"""


def gop_sign(secret: str, path: str, fields: dict[str, str]) -> str:
    """PROTOCOL §4.1 written out again for the checks of this fake."""
    text = path + "".join(k + fields[k] for k in sorted(fields) if k != "sign" and fields[k])
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


def _form(request: httpx.Request) -> tuple[dict[str, str], dict[str, bytes]]:
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        head = f"Content-Type: {kind}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + request.content)
        fields: dict[str, str] = {}
        files: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                files[str(name)] = payload
            else:
                fields[str(name)] = payload.decode()
        return fields, files
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True)), {}


def error(code: str, message: str = "", kind: str = "ISV") -> dict[str, Any]:
    return {"type": kind, "code": code, "message": message or code, "request_id": "req-1"}


@dataclass
class Product:
    id: int
    cat_id: int
    xml: str
    display: str = "Y"
    stock: int = 0

    def value(self, field_id: str) -> str | None:
        node = SafeET.fromstring(self.xml).find(f"./field[@id='{field_id}']/value")
        return node.text if node is not None else None


@dataclass
class FakeGop:
    rotate_refresh: bool = False
    expires_in: int | str = 864000
    products: dict[int, Product] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    scripted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    orders: list[dict[str, Any]] = field(default_factory=list)
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=lambda: {REFRESH})
    codes: set[str] = field(default_factory=lambda: {CODE})
    uploads: list[tuple[str, bytes]] = field(default_factory=list)
    raw: dict[str, list[httpx.Response]] = field(default_factory=dict)
    rules: dict[int, str] = field(default_factory=lambda: {100001101: CARPET_RULES})
    _next: int = 1600000000001
    _tokens: int = 0

    # helpers for tests ----------------------------------------------------------------------

    def script(self, path: str, *answers: dict[str, Any]) -> None:
        """The next calls of `path` get these answers, one each, before the normal one."""
        self.scripted.setdefault(path, []).extend(answers)

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.calls if p == path)

    def sent(self, path: str) -> list[dict[str, str]]:
        return [f for p, f in self.calls if p == path]

    def expire_tokens(self) -> None:
        self.access_tokens.clear()

    def by_sku(self, sku: str) -> Product | None:
        return next((p for p in self.products.values() if p.value("red_model") == sku), None)

    # the gateway ----------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/rest")
        fields, files = _form(request)
        self.calls.append((path, fields))
        if self.raw.get(path):
            return self.raw[path].pop(0)
        return httpx.Response(200, json=self._answer(path, fields, files))

    def _answer(self, path: str, fields: dict[str, str], files: dict[str, bytes]) -> dict[str, Any]:
        if fields.get("app_key") != APP_KEY:
            return error("InvalidAppKey")
        if fields.get("sign") != gop_sign(APP_SECRET, path, fields):
            return error("IncompleteSignature", "The request signature does not conform")
        if not re.fullmatch(r"\d{13}", fields.get("timestamp", "")):
            return error("InvalidTimestamp")
        if "method" in fields and fields["method"] != path:
            return error("InvalidApiPath")
        if path.startswith("/auth/"):
            return self._token(path, fields)
        if fields.get("access_token") not in self.access_tokens:
            return error("IllegalAccessToken", "the access token is invalid or expired")
        if self.scripted.get(path):
            return self.scripted[path].pop(0)
        handler: Callable[[dict[str, str], dict[str, bytes]], dict[str, Any]] | None = getattr(
            self, "_" + path.strip("/").replace("/", "_"), None
        )
        if handler is None:
            return error("InvalidApiPath")
        return {"code": "0", "request_id": "req-ok", **handler(fields, files)}

    def _token(self, path: str, fields: dict[str, str]) -> dict[str, Any]:
        if self.scripted.get(path):
            return self.scripted[path].pop(0)
        if path == "/auth/token/create":
            if fields.get("code") not in self.codes:
                return error("InvalidCode")
            self.codes.discard(fields["code"])
        elif fields.get("refresh_token") not in self.refresh_tokens:
            return error("IllegalRefreshToken")
        self._tokens += 1
        access = f"AT-{self._tokens}"
        self.access_tokens.add(access)
        refresh = fields.get("refresh_token", REFRESH)
        if self.rotate_refresh or path == "/auth/token/create":
            refresh = f"RT-{self._tokens + 1}"
            self.refresh_tokens.add(refresh)
        return {
            "code": "0",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": self.expires_in,
            "refresh_expires_in": "5184000",
            "account": "seller@example.test",
        }

    # products -------------------------------------------------------------------------------

    def _alibaba_icbu_product_schema_get(self, f: dict[str, str], _: Any) -> dict[str, Any]:
        rules = self.rules.get(int(f["cat_id"]))
        if rules is None:
            return {"biz_success": False, "msg_code": "CHK_CAT_NOT_LEAF", "message": "not leaf"}
        return {"biz_success": True, "data": rules}

    def _brief(self, p: Product) -> dict[str, Any]:
        return {
            "id": p.id,
            "product_id": f"x{p.id}",
            "subject": p.value("subject"),
            "status": "approved",
            "display": p.display,
            "red_model": p.value("red_model"),
            "category_id": p.cat_id,
        }

    def _alibaba_icbu_product_list(self, f: dict[str, str], _: Any) -> dict[str, Any]:
        found = [
            p
            for p in self.products.values()
            if "subject" not in f
            or f["subject"].casefold() in (p.value("subject") or "").casefold()
        ]
        size, page = int(f.get("page_size", 20)), int(f.get("current_page", 1))
        rows = found[(page - 1) * size : page * size]
        return {"result": {"products": [self._brief(p) for p in rows], "total_item": len(found)}}

    def _icbu_product_schema_add(self, f: dict[str, str], _: Any) -> dict[str, Any]:
        self._next += 1
        product = Product(self._next, int(f["cat_id"]), f["xml"])
        self.products[product.id] = product
        return {"biz_success": True, "product_id": product.id}

    def _icbu_product_schema_update(self, f: dict[str, str], _: Any) -> dict[str, Any]:
        product = self.products[int(f["product_id"])]
        product.xml, product.cat_id = f["xml"], int(f["cat_id"])
        return {"biz_success": True, "product_id": product.id}

    def _icbu_product_get(self, f: dict[str, str], _: Any) -> dict[str, Any]:
        wanted = json.loads(f["product_get_request"])["productId"]
        p = self.products.get(int(wanted))
        if p is None:
            return error("PRODUCT_NOT_EXIST", "no such product")
        return {
            "product": {
                "productId": p.id,
                "subject": p.value("subject"),
                "status": "approved",
                "display": p.display,
                "categoryId": p.cat_id,
                "redModel": p.value("red_model"),
                "productSku": {
                    "skus": [{"skuId": -1, "inventoryDtoList": [{"inventory": p.stock}]}]
                },
            }
        }

    def _icbu_product_inventory_get(self, f: dict[str, str], _: Any) -> dict[str, Any]:
        p = self.products[int(json.loads(f["inventory_get_request"])["productId"])]
        return {"result": {"inventoryItems": [{"skuId": -1, "inventory": {"amount": p.stock}}]}}

    def _icbu_product_inventory_update(self, f: dict[str, str], _: Any) -> dict[str, Any]:
        body = json.loads(f["request_param"])
        p = self.products[int(body["product_id"])]
        for row in body["inventory_list"]:
            change = row["inventory"] if row["operate"] == "plus" else -row["inventory"]
            if p.stock + change < 0:
                return {"result": {"success": False, "msg_code": "INVENTORY_NOT_ENOUGH"}}
            p.stock += change
        return {"result": {"success": True}}

    def _icbu_product_update_display(self, f: dict[str, str], _: Any) -> dict[str, Any]:
        failed: dict[str, list[str]] = {}
        for pid in json.loads(f["product_id_list"]):
            if int(pid) in self.products:
                self.products[int(pid)].display = "Y" if f["new_display"] == "on" else "N"
            else:
                failed.setdefault("product not found for this seller", []).append(pid)
        return {"success": not failed, "result": {"fail_id_map": failed}}

    def _alibaba_icbu_photobank_upload(self, f: dict[str, str], files: dict[str, bytes]) -> Any:
        self.uploads.append((f["file_name"], files["image_bytes"]))
        url = f"//sc04.alicdn.com/kf/H{len(self.uploads):04d}.png"
        return {"upload_image_response": {"file_id": len(self.uploads), "photobank_url": url}}

    # orders ---------------------------------------------------------------------------------

    def _alibaba_order_list(self, f: dict[str, str], _: Any) -> dict[str, Any]:
        start = int(json.loads(f["modified_date_start"])["date_timestamp"])
        end = int(json.loads(f["modified_date_end"])["date_timestamp"])
        found = [o for o in self.orders if start <= int(o["modify_date"]["timestamp"]) <= end]
        size, page = int(f["page_size"]), int(f.get("start_page", 0))
        rows = found[page * size : (page + 1) * size]
        return {
            "value": {
                "total_count": str(len(found)),
                "order_list": [
                    {k: o[k] for k in ("trade_id", "trade_status", "create_date", "modify_date")}
                    for o in rows
                ],
            }
        }

    def _alibaba_order_get(self, f: dict[str, str], _: Any) -> dict[str, Any]:
        order = next(o for o in self.orders if o["trade_id"] == f["e_trade_id"])
        return {"value": order}

    def place_order(
        self, trade_id: str, sku: str, quantity: str, price: str, status: str, at: datetime
    ) -> None:
        ms = int(at.timestamp() * 1000)
        self.orders.append(
            {
                "trade_id": trade_id,
                "trade_status": status,
                "create_date": {"timestamp": ms, "format_date": "…"},
                "modify_date": {"timestamp": str(ms)},
                "order_products": [
                    {
                        "id": f"{trade_id}-1",
                        "product_id": "1600000000002",
                        "sku_code": sku,
                        "quantity": quantity,
                        "unit": "Piece/Pieces",
                        "unit_price": {"amount": price, "currency": "USD"},
                    }
                ],
                "total_amount": {"amount": "0", "currency": "USD"},
                "trade_term": "FOB",
            }
        )


class FakeClock:
    """Time the test moves: the adapter's rate limiter and tokens read it."""

    def __init__(self) -> None:
        self.t = 0.0
        self.start = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.t

    def utcnow(self) -> datetime:
        return self.start + timedelta(seconds=self.t)

    async def sleep(self, seconds: float) -> None:
        # At least a microsecond: a wait of a rounding error must still move time.
        self.t += max(1e-6, seconds)

    def advance(self, seconds: float) -> None:
        self.t += seconds


def mount(router: respx.MockRouter, gop: FakeGop) -> None:
    router.post(url__startswith=ORIGIN + "/rest/").mock(side_effect=gop)
