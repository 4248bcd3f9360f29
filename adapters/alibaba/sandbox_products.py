"""The sandbox's products, per seller, and the product operations that are not publishing
(PROTOCOL.md §7.1, §7.2, §7.8-§7.10): product list and get, update display, inventory get and
update, photobank upload.

A product has a plain int64 id and an obfuscated string id (§7.1 "Product id kinds"), a status
(`approved` once published), a display flag (`Y` on shelf, `N` off), the values of its schema
fields, and one stock figure: a product without SKU dimensions has one SKU, id -1, whose stock
lives in store `DEFAULT` (contract note, I). `gmt_modified` is `yyyy-MM-dd HH:mm:ss` in UTC (the
platform formats in its own zone; the contract note takes UTC, I).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from datetime import datetime
from typing import Any

from adapters.alibaba.sandbox_gateway import INVALID, GopError
from adapters.alibaba.sandbox_schema import CategoryTree, Values
from odop_sync.adapter_sdk.sandbox import SandboxClock, StateStore

SKU_ID = -1
STORE_CODE = "DEFAULT"
# PROTOCOL §6: product list pages hold at most 30; the default (not documented) is the sandbox's.
LIST_PAGE_MAX = 30
LIST_PAGE_DEFAULT = 20
# contract note: at most 20 ids per update/display call (I).
DISPLAY_MAX = 20
# PROTOCOL §7.10 / §5.3: photobank images up to 5 MB, else SIZE_TOO_LARGE (U-REF).
IMAGE_MAX = 5 * 1024 * 1024
SIZE_TOO_LARGE = "SIZE_TOO_LARGE"
NO_CAPACITY = "NOCAPACITY"
# contract note: a product's photobank URLs sit on Alibaba.com's image CDN (I).
PHOTOBANK_HOST = "sc04.alicdn.com"
# The sandbox's own codes where the platform's are not known (I).
NOT_FOUND = "PRODUCT_NOT_EXIST"
NOT_ENOUGH = "INVENTORY_NOT_ENOUGH"  # contract note
BAD_SKU = "SKU_NOT_EXIST"
BAD_STORE = "INVENTORY_CODE_NOT_EXIST"
BAD_AMOUNT = "INVENTORY_INVALID"
FIRST_ID = 1_600_000_000_001
_MASK = 0x3C5A96E12B


def gmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def obfuscate(plain: int) -> str:
    """The string id of a product (§7.1): not digits only, so the two kinds never mix up."""
    return "Q" + _base36(plain ^ _MASK)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def plain_id(given: str | int) -> int | None:
    """A plain id from either kind of id; None if it is neither."""
    text = str(given).strip()
    if text.isdigit():
        return int(text)
    if text.startswith("Q") and text[1:].isalnum():
        try:
            return int(text[1:], 36) ^ _MASK
        except ValueError:
            return None
    return None


def normal_url(url: str) -> str:
    return "https:" + url if url.startswith("//") else url


class ProductStore:
    """Products and photobank images per seller (StateStore tables "products", "photobank")."""

    def __init__(self, state: StateStore, clock: SandboxClock, tree: CategoryTree) -> None:
        self.state = state
        self.clock = clock
        self.tree = tree
        self._ids = itertools.count(FIRST_ID)
        self._files = itertools.count(10_000_001)
        self._changes = itertools.count(1)
        self._owner: dict[int, str] = {}
        self._skus: dict[str, dict[str, list[int]]] = {}
        self.photobank_capacity = 10_000

    def reset(self) -> None:
        self._owner.clear()
        self._skus.clear()

    # storage -------------------------------------------------------------------------------

    def table(self, seller: str) -> MutableMapping[str, Any]:
        return self.state.table(seller, "products")

    def rows(self, seller: str) -> Iterator[dict[str, Any]]:
        for key in list(self.table(seller)):
            yield self.table(seller)[key]

    def save(self, seller: str, row: dict[str, Any], *, touched: bool = True) -> dict[str, Any]:
        if touched:
            row["gmt_modified"] = gmt(self.clock.utcnow())
            row["change"] = next(self._changes)
        old = self.table(seller).get(str(row["id"]))
        index = self._skus.setdefault(seller, {})
        if old is not None:
            previous = index.get(str(old["values"].get("red_model", "")), [])
            if row["id"] in previous:
                previous.remove(row["id"])
        index.setdefault(str(row["values"].get("red_model", "")), []).append(row["id"])
        self.table(seller)[str(row["id"])] = row
        self._owner[row["id"]] = seller
        return row

    def create(self, seller: str, cat_id: int, language: str, values: Values) -> dict[str, Any]:
        plain = next(self._ids)
        now = gmt(self.clock.utcnow())
        row = {
            "id": plain,
            "product_id": obfuscate(plain),
            "cat_id": cat_id,
            "language": language,
            "status": "approved",
            "display": "Y",
            "values": values,
            "inventory": 0,
            "serial": 0,
            "gmt_create": now,
            "inventory_modified": now,
        }
        return self.save(seller, row)

    def find(self, seller: str, given: str | int) -> tuple[dict[str, Any] | None, str]:
        """The seller's product named by either kind of id, or None and why not."""
        plain = plain_id(given)
        owner = self._owner.get(plain) if plain is not None else None
        if plain is None or owner is None:
            return None, f"product {given} does not exist"
        if owner != seller:
            return None, f"product {given} does not belong to this seller"
        return self.table(seller)[str(plain)], ""

    def get(self, seller: str, given: str | int) -> dict[str, Any]:
        row, why = self.find(seller, given)
        if row is None:
            raise GopError(NOT_FOUND, why)
        return row

    def by_sku(self, seller: str, sku: str) -> list[dict[str, Any]]:
        ids = self._skus.get(seller, {}).get(sku, [])
        return [self.table(seller)[str(i)] for i in ids]

    def skus(self, seller: str) -> set[str]:
        return {sku for sku, ids in self._skus.get(seller, {}).items() if ids and sku}

    # renderings ----------------------------------------------------------------------------

    def attributes(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        category = self.tree.nodes[row["cat_id"]]
        out = []
        for rule in category.rules:
            value = row["values"].get(rule.id)
            if rule.attribute_id is None or not isinstance(value, str):
                continue
            item: dict[str, Any] = {
                "attribute_id": rule.attribute_id,
                "attribute_name": rule.name,
                "value_name": value,
            }
            options = rule.options or rule.levels.get(str(row["values"].get(rule.level_parent)), ())
            if value in options:
                item["value_id"] = rule.attribute_id * 1000 + options.index(value) + 1
            out.append(item)
        return out

    def brief(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A product of product list (§7.1, `AlibabaProductBriefResponse` fields)."""
        values = row["values"]
        return {
            "id": row["id"],
            "product_id": row["product_id"],
            "subject": values.get("subject", ""),
            "status": row["status"],
            "display": row["display"],
            "product_type": values.get("product_type", "wholesale"),
            "language": "ENGLISH",
            "category_id": row["cat_id"],
            "keywords": list(values.get("keywords", [])),
            "main_image": {"images": list(values.get("main_image", [])), "watermark": False},
            "is_specific": False,
            "is_rts": False,
            "smart_edit": False,
            "pc_detail_url": f"https://www.alibaba.com/product-detail/_{row['id']}.html",
            "gmt_create": row["gmt_create"],
            "gmt_modified": row["gmt_modified"],
            "red_model": values.get("red_model", ""),
        }

    def detail(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """/icbu/product/get's `product`: camelCase twins of the TOP fields (§7.2, I)."""
        values = row["values"]
        tiers = [
            {"startQuantity": int(t["start_quantity"]), "price": t["price"]}
            for t in values.get("bulk_discount_prices", [])
        ]
        product: dict[str, Any] = {
            "productId": row["id"],
            "subject": values.get("subject", ""),
            "status": row["status"],
            "display": row["display"],
            "categoryId": row["cat_id"],
            "redModel": values.get("red_model", ""),
            "description": values.get("description", ""),
            "keywords": list(values.get("keywords", [])),
            "productType": values.get("product_type", "wholesale"),
            "language": "ENGLISH",
            "gmtCreate": row["gmt_create"],
            "gmtModified": row["gmt_modified"],
            "pcDetailUrl": f"https://www.alibaba.com/product-detail/_{row['id']}.html",
            "priceType": "ladder_price",
            "mainImage": {"images": list(values.get("main_image", []))},
            "attributes": [
                {_camel(k): v for k, v in item.items()} for item in self.attributes(row)
            ],
            "fobCurrency": values.get("fob_currency"),
            "bulkDiscountPrices": tiers,
            "minOrderUnitType": values.get("min_order_unit_type"),
            "deliverPeriods": [
                {"quantity": int(p["quantity"]), "processPeriod": int(p["process_period"])}
                for p in values.get("deliver_periods", [])
            ],
            "supplyUnitType": values.get("supply_unit_type"),
            "supplyPeriodType": values.get("supply_period_type"),
            "deliveryPort": values.get("delivery_port"),
            "paymentMethods": list(values.get("payment_methods", [])),
            "hsCode": values.get("hs_code"),
            "productSku": {
                "skus": [
                    {
                        "skuId": SKU_ID,
                        "skuCode": values.get("red_model", ""),
                        "bulkDiscountPrices": tiers,
                        "inventoryDtoList": [
                            {"storeCode": STORE_CODE, "inventory": row["inventory"]}
                        ],
                    }
                ]
            },
        }
        for key in ("min_order_quantity", "supply_quantity"):
            if key in values:
                product[_camel(key)] = int(str(values[key]))
        return {k: v for k, v in product.items() if v is not None}

    def public(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A product as the state endpoint shows it (by red_model = our SKU)."""
        values = row["values"]
        tiers = [
            {"start_quantity": int(t["start_quantity"]), "price": t["price"]}
            for t in values.get("bulk_discount_prices", [])
        ]
        moq = str(values.get("min_order_quantity", ""))
        return {
            "sku": values.get("red_model"),
            "id": row["id"],
            "productId": row["product_id"],
            "subject": values.get("subject"),
            "status": row["status"],
            "display": row["display"],
            "inventory": row["inventory"],
            "quantity": row["inventory"],
            "category": row["cat_id"],
            "currency": values.get("fob_currency"),
            "price": tiers[0]["price"] if tiers else None,
            "tiers": tiers,
            "moq": int(moq) if moq.isdigit() else None,
            "unit": values.get("min_order_unit_type"),
            "leadTimes": values.get("deliver_periods", []),
            "port": values.get("delivery_port"),
            "paymentMethods": values.get("payment_methods", []),
            "hsCode": values.get("hs_code"),
            "images": values.get("main_image", []),
            "attributes": {a["attribute_name"]: a["value_name"] for a in self.attributes(row)},
            "gmtModified": row["gmt_modified"],
        }

    # operations ----------------------------------------------------------------------------

    def list_page(self, seller: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """product list (§7.1): filters, newest modified first, 1-based pages of at most 30."""
        size = params.get("page_size", LIST_PAGE_DEFAULT)
        page = params.get("current_page", 1)
        if size > LIST_PAGE_MAX:  # the document says so too; kept for a direct call
            raise GopError(INVALID, f"page_size: must be <= {LIST_PAGE_MAX}")
        wanted = str(params.get("subject", "")).casefold()
        low, high = params.get("gmt_modified_from"), params.get("gmt_modified_to")
        kept = [
            row
            for row in self.rows(seller)
            if wanted in str(row["values"].get("subject", "")).casefold()
            and params.get("id") in (None, row["id"])
            and params.get("category_id") in (None, row["cat_id"])
            and (low is None or row["gmt_modified"] >= low)
            and (high is None or row["gmt_modified"] <= high)
            and _filter_type(params.get("filter_type"), row)
        ]
        kept.sort(key=lambda row: row["change"], reverse=True)
        chosen = kept[(page - 1) * size : page * size]
        return {
            "result": {
                "products": [self.brief(row) for row in chosen],
                "total_item": len(kept),
                "current_page": page,
                "page_size": size,
            }
        }

    def display(self, seller: str, ids: Sequence[str], new_display: str) -> dict[str, Any]:
        """update display (§7.8): unknown and other sellers' ids go into fail_id_map."""
        if len(ids) > DISPLAY_MAX:
            raise GopError(INVALID, f"product_id_list: at most {DISPLAY_MAX} ids per call")
        failed: dict[str, list[str]] = {}
        flag = "Y" if new_display == "on" else "N"
        for given in ids:
            row, why = self.find(seller, given)
            if row is None:
                failed.setdefault(why.replace(f"product {given} ", "product "), []).append(given)
                continue
            if row["display"] != flag:
                row["display"] = flag
                self.save(seller, row)
        return {
            "success": not failed,
            "result": {"fail_id_map": failed, "gmtModified": gmt(self.clock.utcnow())},
        }

    def inventory(self, seller: str, given: str | int) -> dict[str, Any]:
        """inventory get (§7.9, shape unverified: the contract note's reading)."""
        row = self.get(seller, given)
        return {
            "result": {
                "inventoryItems": [
                    {
                        "skuId": SKU_ID,
                        "inventoryCode": STORE_CODE,
                        "inventory": {
                            "amount": row["inventory"],
                            "serialNo": str(row["serial"]),
                            "gmtModified": row["inventory_modified"],
                        },
                    }
                ]
            }
        }

    def change_inventory(self, seller: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """inventory update (§7.9): deltas plus/sub on SKU -1 in store DEFAULT; a change that
        would take stock below 0 is refused and nothing of the call is applied."""
        row, why = self.find(seller, request["product_id"])
        if row is None:
            return _inventory_result(NOT_FOUND, why)
        amount = row["inventory"]
        for n, change in enumerate(request["inventory_list"]):
            where = f"inventory_list[{n}]"
            if change["sku_id"] != SKU_ID:
                return _inventory_result(BAD_SKU, f"{where}.sku_id: no SKU {change['sku_id']}")
            if change["inventory_code"] != STORE_CODE:
                return _inventory_result(
                    BAD_STORE, f"{where}.inventory_code: no store {change['inventory_code']}"
                )
            if change["inventory"] < 0:
                return _inventory_result(BAD_AMOUNT, f"{where}.inventory: must be >= 0")
            amount += change["inventory"] if change["operate"] == "plus" else -change["inventory"]
            if amount < 0:
                return _inventory_result(
                    NOT_ENOUGH, f"{where}: stock {row['inventory']} cannot go below 0"
                )
        self.set_stock(seller, row, amount)
        return {"result": {"success": True, "data": str(amount)}}

    def set_stock(self, seller: str, row: dict[str, Any], amount: int) -> None:
        row["inventory"] = max(0, amount)
        row["serial"] += 1
        row["inventory_modified"] = gmt(self.clock.utcnow())
        self.save(seller, row, touched=False)

    # photobank -----------------------------------------------------------------------------

    def upload(self, seller: str, file_name: str, data: bytes, group: str | None) -> dict[str, Any]:
        """photobank upload (§7.10): an image of at most 5 MB into the seller's photobank."""
        if len(data) > IMAGE_MAX:
            raise GopError(SIZE_TOO_LARGE, f"image_bytes: {len(data)} bytes, at most {IMAGE_MAX}")
        if not data:
            raise GopError(INVALID, "image_bytes: the file is empty")
        bank = self.state.table(seller, "photobank")
        if len(bank) >= self.photobank_capacity:
            raise GopError(NO_CAPACITY, "the photobank is full")
        digest = hashlib.sha256(seller.encode() + b"\0" + data).hexdigest()[:32]
        ext = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else "jpg"
        ext = ext if ext in ("jpg", "jpeg", "png", "gif", "webp") else "jpg"
        url = f"https://{PHOTOBANK_HOST}/kf/H{digest}.{ext}"
        image = bank.get(url) or {"file_id": next(self._files), "size": len(data)}
        image.update(file_name=file_name, group_id=group)
        bank[url] = image
        return {
            "upload_image_response": {
                "file_id": image["file_id"],
                "file_name": file_name,
                "photobank_url": url,
            }
        }

    def owns(self, seller: str, url: str) -> bool:
        return normal_url(url) in self.state.table(seller, "photobank")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _filter_type(kind: str | None, row: Mapping[str, Any]) -> bool:
    """filter_type (§7.1, one client): onSelling = approved and on shelf; the others name a
    status."""
    if kind is None:
        return True
    if kind == "onSelling":
        return bool(row["display"] == "Y" and row["status"] == "approved")
    return bool(row["status"] == kind)


def _inventory_result(code: str, message: str) -> dict[str, Any]:
    return {"result": {"success": False, "msg_code": code, "message": message}}
