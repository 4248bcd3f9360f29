"""Alibaba.com Open Platform (GOP gateway) as it travels, from PROTOCOL.md and
icbu-gop.openapi.json (rebuilt from public SDKs and pages; adapters/alibaba/specs keeps the copy),
with the project's reading of the open points in adapters/alibaba/CONTRACT.md.

Every call is a POST to `https://openapi-api.alibaba.com/rest<api_path>`, form-encoded
(multipart for the photobank upload), with the API path also in the `method` field (§3.1: what
most clients do). Structured parameters travel as compact JSON text in one form field, and the
exact bytes signed are the bytes sent (§3.4). Answers are HTTP 200 JSON, the platform's error
envelope `{type, code, message, request_id}` included (§5).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

ORIGIN = "https://openapi-api.alibaba.com"
BASE_PATH = "/rest"

# api path -> operation name (the operationIds of icbu-gop.openapi.json)
TOKEN_CREATE = "/auth/token/create"  # noqa: S105 - a path
TOKEN_REFRESH = "/auth/token/refresh"  # noqa: S105 - a path
PRODUCT_LIST = "/alibaba/icbu/product/list"
PRODUCT_GET = "/icbu/product/get"
SCHEMA_GET = "/alibaba/icbu/product/schema/get"
SCHEMA_ADD = "/icbu/product/schema/add"
SCHEMA_UPDATE = "/icbu/product/schema/update"
UPDATE_DISPLAY = "/icbu/product/update/display"
INVENTORY_GET = "/icbu/product/inventory/get"
INVENTORY_UPDATE = "/icbu/product/inventory/update"
PHOTOBANK_UPLOAD = "/alibaba/icbu/photobank/upload"
ORDER_LIST = "/alibaba/order/list"
ORDER_GET = "/alibaba/order/get"

# The rate limiter's key every gateway call spends, whatever its operation (gop.Gop.call).
GATEWAY = "gateway"

OPERATIONS = {
    TOKEN_CREATE: "tokenCreate",
    TOKEN_REFRESH: "tokenRefresh",
    PRODUCT_LIST: "productList",
    PRODUCT_GET: "productGet",
    SCHEMA_GET: "productSchemaGet",
    SCHEMA_ADD: "productSchemaAdd",
    SCHEMA_UPDATE: "productSchemaUpdate",
    UPDATE_DISPLAY: "productUpdateDisplay",
    INVENTORY_GET: "productInventoryGet",
    INVENTORY_UPDATE: "productInventoryUpdate",
    PHOTOBANK_UPLOAD: "photobankUpload",
    ORDER_LIST: "orderList",
    ORDER_GET: "orderGet",
}

# §6: product list page_size <= 30 (TOP metadata); order list: clients cap at 50 (contract I).
PRODUCT_PAGE_SIZE = 30
ORDER_PAGE_SIZE = 50
# Contract (I): at most 20 product ids per display call.
DISPLAY_IDS_PER_CALL = 20
# §7.10 (U-REF): photobank images up to 5 MB.
MAX_IMAGE_BYTES = 5 * 1024 * 1024
# Contract (I): an image on a host ending .alicdn.com is already on Alibaba.com.
ALICDN_SUFFIX = ".alicdn.com"
# Contract (I): a product without SKU dimensions has one SKU, id -1, stock at store DEFAULT.
NO_SKU = -1
DEFAULT_STORE = "DEFAULT"

# Gateway error codes (contract; the catalogue is undocumented, names from the sister IOP
# platform's gateway, I).
EXPIRED_TOKEN = "IllegalAccessToken"  # noqa: S105 - an error code
# InsufficientIsvPermissions: the app lacks the API group's permission (§5.2, U-REF: the
# gateway refuses even a correct signature); the name is the sandbox's, I. Either way the seller's
# authorisation has to change, so it counts as refused credentials.
AUTH_CODES = frozenset(
    {
        "InvalidAppKey",
        "IncompleteSignature",
        "IllegalRefreshToken",
        "InvalidCode",
        "InsufficientIsvPermissions",
    }
)
THROTTLED = "ApiCallLimit"
INVALID_CODE = "InvalidCode"


def json_text(value: Any) -> str:
    """A structured parameter as the compact JSON text that is both signed and sent."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Envelope(Wire):
    """The platform fields of every answer (§5.1/5.2): `code` "0" (or absent) is success; any
    other code with `type` ISV / ISP / SYSTEM is the error envelope."""

    type: str | None = None
    code: str | None = None
    message: str | None = None
    request_id: str | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @property
    def failed(self) -> bool:
        return self.code not in (None, "", "0")


class TokenAnswer(Wire):
    """§2.2: expires_in and refresh_expires_in may be numbers or numeric strings."""

    access_token: str
    refresh_token: str | None = None
    expires_in: float
    refresh_expires_in: float | None = None
    account: str | None = None
    seller_id: str | None = None


class BizStatus(Wire):
    """The business status of the XML-schema APIs (§5.1): biz_success false is a refusal of
    the product, with `;`-separated codes and messages."""

    biz_success: bool | None = None
    success: bool | None = None
    message: str | None = None
    msg_code: str | None = None
    trace_id: str | None = None

    @property
    def ok(self) -> bool:
        flag = self.biz_success if self.biz_success is not None else self.success
        return flag is not False

    def problems(self) -> list[tuple[str, str]]:
        """(code, message) pairs: the `;`-separated lists side by side."""
        codes = [c.strip() for c in (self.msg_code or "").split(";")]
        texts = [t.strip() for t in (self.message or "").split(";")]
        n = max(len(codes), len(texts))
        codes += [""] * (n - len(codes))
        texts += [""] * (n - len(texts))
        return [(c, t) for c, t in zip(codes, texts, strict=True) if c or t]


class SchemaAnswer(BizStatus):
    data: str | None = None


class PublishAnswer(BizStatus):
    product_id: int | None = None


class MainImage(Wire):
    images: list[str] = Field(default_factory=list)


class ProductBrief(Wire):
    """§7.1 products[] (snake_case)."""

    id: int
    product_id: str | None = None
    subject: str | None = None
    status: str | None = None
    display: str | None = None
    red_model: str | None = None
    category_id: int | None = None
    gmt_modified: str | None = None


class ProductPage(Wire):
    products: list[ProductBrief] = Field(default_factory=list)
    total_item: int = 0
    current_page: int | None = None
    page_size: int | None = None


class ProductListAnswer(Wire):
    result: ProductPage = Field(default_factory=ProductPage)


class Stock(Wire):
    store_code: str | None = Field(default=None, alias="storeCode")
    inventory: int | None = None


class Sku(Wire):
    sku_id: int = Field(default=NO_SKU, alias="skuId")
    sku_code: str | None = Field(default=None, alias="skuCode")
    inventory_dto_list: list[Stock] = Field(default_factory=list, alias="inventoryDtoList")


class ProductSkus(Wire):
    skus: list[Sku] = Field(default_factory=list)


class ProductDetail(Wire):
    """§7.2 /icbu/product/get `product`: camelCase (observed keys; the rest are the inferred
    camelCase twins of the TOP fields, contract)."""

    product_id: int | str | None = Field(default=None, alias="productId")
    subject: str | None = None
    status: str | None = None
    display: str | None = None
    category_id: int | str | None = Field(default=None, alias="categoryId")
    red_model: str | None = Field(default=None, alias="redModel")
    product_sku: ProductSkus | None = Field(default=None, alias="productSku")

    def stock(self) -> int | None:
        if self.product_sku is None:
            return None
        counts = [
            s.inventory
            for sku in self.product_sku.skus
            for s in sku.inventory_dto_list
            if s.inventory is not None
        ]
        return sum(counts) if counts else None


class ProductGetAnswer(Wire):
    product: ProductDetail | None = None


class InventoryAmount(Wire):
    amount: int | None = None


class InventoryItem(Wire):
    sku_id: int | str = Field(default=NO_SKU, alias="skuId")
    inventory: InventoryAmount | None = None


class InventoryResult(Wire):
    inventory_items: list[InventoryItem] = Field(default_factory=list, alias="inventoryItems")


class InventoryGetAnswer(Wire):
    result: InventoryResult = Field(default_factory=InventoryResult)


class InventoryUpdateAnswer(Wire):
    result: BizStatus = Field(default_factory=BizStatus)


class DisplayResult(Wire):
    fail_id_map: dict[str, list[str | int]] = Field(default_factory=dict)


class DisplayAnswer(Wire):
    success: bool | None = None
    result: DisplayResult = Field(default_factory=DisplayResult)

    def failures(self) -> dict[str, str]:
        """product id -> the platform's reason, from fail_id_map {message: [ids]}."""
        return {str(i): reason for reason, ids in self.result.fail_id_map.items() for i in ids}


class UploadedImage(Wire):
    file_id: int | None = None
    file_name: str | None = None
    photobank_url: str | None = None


class UploadAnswer(Wire):
    upload_image_response: UploadedImage | None = None


# orders -----------------------------------------------------------------------------------------


class DateVo(Wire):
    """§7.11: `timestamp` epoch ms (number or numeric string); `format_date` in PDT/PST."""

    timestamp: int | None = None
    format_date: str | None = None

    @field_validator("timestamp", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if isinstance(value, str):
            return int(value) if value.strip().isdigit() else None
        return value


class Amount(Wire):
    amount: str | None = None
    currency: str | None = None

    def decimal(self) -> Decimal | None:
        try:
            return Decimal(self.amount) if self.amount not in (None, "") else None
        except InvalidOperation:
            return None


class OrderSummary(Wire):
    trade_id: str
    trade_status: str | None = None
    create_date: DateVo | None = None
    modify_date: DateVo | None = None


class OrderPageValue(Wire):
    total_count: int = 0
    order_list: list[OrderSummary] = Field(default_factory=list)

    @field_validator("total_count", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value


class OrderListAnswer(Wire):
    value: OrderPageValue = Field(default_factory=OrderPageValue)


class OrderProduct(Wire):
    id: str | int | None = None
    product_id: str | int | None = None
    sku_id: str | int | None = None
    sku_code: str | None = None
    model_number: str | None = None
    name: str | None = None
    quantity: str | int | float | None = None
    unit: str | None = None
    unit_price: Amount | None = None


class TradeOrder(Wire):
    """§7.11 TradeEcologyOrder (the fields an order pull needs)."""

    trade_id: str
    trade_status: str | None = None
    create_date: DateVo | None = None
    modify_date: DateVo | None = None
    order_products: list[OrderProduct] = Field(default_factory=list)
    total_amount: Amount | None = None
    trade_term: str | None = None

    @field_validator("order_products", mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        # Non-simplified TOP JSON wraps lists one level deeper (AD-41148).
        if isinstance(value, dict) and "trade_ecology_order_product" in value:
            return value["trade_ecology_order_product"]
        return value


class OrderGetAnswer(Wire):
    value: TradeOrder | None = None
