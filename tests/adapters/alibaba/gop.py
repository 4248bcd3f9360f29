"""A GOP client written for the sandbox tests from PROTOCOL.md §4.1 by hand — not the adapter's
signer, and not the sandbox's: a request this signs is what any correct implementation of the
protocol would send."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx
from adapters.alibaba.sandbox import APP_KEY, APP_SECRET, SANDBOX_SELLER, AlibabaSandbox

BASE_URL = "http://gop.sandbox"
PHOTO = b"\xff\xd8\xff\xe0" + b"JFIF carpet photo" * 20


def gop_string(api_path: str, params: Mapping[str, str]) -> str:
    """§4.1 steps 1-4: drop `sign` (and empty values, §4.3), sort the names by byte value,
    concatenate name + value, put the API path in front."""
    names = sorted((n for n in params if n != "sign" and params[n] != ""), key=str.encode)
    return api_path + "".join(name + params[name] for name in names)


def gop_sign(secret: str, api_path: str, params: Mapping[str, str]) -> str:
    """§4.1 steps 5-6: HMAC-SHA256 keyed with the app secret over UTF-8 bytes, upper hex."""
    digest = hmac.new(
        secret.encode("utf-8"), gop_string(api_path, params).encode("utf-8"), hashlib.sha256
    )
    return digest.hexdigest().upper()


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Gop:
    """Calls to a sandbox as a seller's app would make them."""

    def __init__(
        self, sandbox: AlibabaSandbox, *, app_key: str = APP_KEY, secret: str = APP_SECRET
    ) -> None:
        self.sandbox = sandbox
        self.app_key = app_key
        self.secret = secret
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        transport = httpx.ASGITransport(app=sandbox.app)
        self.http = httpx.AsyncClient(transport=transport, base_url=BASE_URL)

    def now_ms(self) -> str:
        return str(int(time.time() * 1000))

    def fields(
        self, api_path: str, params: Mapping[str, Any], *, token: bool = True
    ) -> dict[str, str]:
        """System fields (§3.3) and the business ones, signed."""
        fields = {
            "app_key": self.app_key,
            "timestamp": self.now_ms(),
            "sign_method": "sha256",
            "method": api_path,
            "format": "json",
        }
        if token and self.access_token:
            fields["access_token"] = self.access_token
        fields.update({k: str(v) for k, v in params.items()})
        fields["sign"] = gop_sign(self.secret, api_path, fields)
        return fields

    async def send(
        self,
        api_path: str,
        fields: Mapping[str, str],
        *,
        style: str = "path",
        files: Mapping[str, tuple[str, bytes]] | None = None,
    ) -> httpx.Response:
        """`path`: POST /rest<path>; `bare`: POST /rest (the path in `method`); `get`: GET with
        the fields in the query."""
        url = "/rest" if style == "bare" else f"/rest{api_path}"
        if style == "get":
            return await self.http.get(url, params=dict(fields))
        if files:
            return await self.http.post(url, data=dict(fields), files=dict(files))
        return await self.http.post(url, data=dict(fields))

    async def call(self, api_path: str, *, style: str = "path", **params: Any) -> dict[str, Any]:
        response = await self.send(api_path, self.fields(api_path, params), style=style)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def ok(self, api_path: str, **params: Any) -> dict[str, Any]:
        body = await self.call(api_path, **params)
        assert body.get("code") == "0", body
        return body

    async def authorise(self, seller: str = SANDBOX_SELLER) -> dict[str, Any]:
        r = await self.http.post(f"/_sandbox/codes/{seller}", params={"app_key": self.app_key})
        assert r.status_code == 201, r.text
        body = await self.ok("/auth/token/create", code=r.json()["code"])
        self.access_token, self.refresh_token = body["access_token"], body["refresh_token"]
        return body

    async def upload(self, name: str = "carpet.jpg", data: bytes = PHOTO) -> str:
        path = "/alibaba/icbu/photobank/upload"
        response = await self.send(
            path, self.fields(path, {"file_name": name}), files={"image_bytes": (name, data)}
        )
        body = response.json()
        assert body.get("code") == "0", body
        url: str = body["upload_image_response"]["photobank_url"]
        return url


# Value documents -------------------------------------------------------------------------------


def field(ident: str, value: str | list[str] | list[dict[str, str]]) -> str:
    if isinstance(value, str):
        return f'<field id="{ident}"><value>{value}</value></field>'
    if value and isinstance(value[0], dict):
        rows = "".join(
            "<complex-values>"
            + "".join(f'<field id="{k}"><value>{v}</value></field>' for k, v in row.items())
            + "</complex-values>"
            for row in value
            if isinstance(row, dict)
        )
        return f'<field id="{ident}">{rows}</field>'
    items = "".join(f"<value>{v}</value>" for v in value)
    return f'<field id="{ident}"><values>{items}</values></field>'


def document(fields: Mapping[str, str | list[str] | list[dict[str, str]]]) -> str:
    return "<itemSchema>" + "".join(field(k, v) for k, v in fields.items()) + "</itemSchema>"


CARPET = 100001101
# The carpet's B2B terms, by hand: MOQ 50 square metres, USD 120.00 from 50, 95.00 from 200.
TIERS = [{"start_quantity": "50", "price": "120.00"}, {"start_quantity": "200", "price": "95.00"}]


def carpet(sku: str, image: str, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "subject": "Bhadohi hand-knotted wool carpet",
        "red_model": sku,
        "product_type": "wholesale",
        "description": f'&lt;p&gt;Hand-knotted in Bhadohi.&lt;img src="{image}"&gt;&lt;/p&gt;',
        "keywords": ["carpet", "hand knotted rug"],
        "main_image": [image],
        "fob_currency": "USD",
        "min_order_quantity": "50",
        "min_order_unit_type": "Square Meter/Square Meters",
        "bulk_discount_prices": TIERS,
        "supply_quantity": "2000",
        "supply_unit_type": "Square Meter/Square Meters",
        "supply_period_type": "Month",
        "deliver_periods": [
            {"quantity": "200", "process_period": "30"},
            {"quantity": "1000", "process_period": "60"},
        ],
        "delivery_port": "Nhava Sheva",
        "payment_methods": ["T/T", "L/C"],
        "hs_code": "570110",
        "attr_1001": "New Zealand wool",
        "attr_1002": "Hand Knotted",
        "attr_1003": "India",
        "attr_1008": "Uttar Pradesh",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


async def publish(gop: Gop, sku: str, image: str, **changes: Any) -> dict[str, Any]:
    """schema add of a carpet; the answer (biz_success, product_id or msg_code)."""
    xml = document(carpet(sku, image, **changes))
    return await gop.call("/icbu/product/schema/add", cat_id=CARPET, language="en_US", xml=xml)
