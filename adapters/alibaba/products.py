"""The product calls behind the adapter's operations: category schemas (cached per category for
the life of the adapter, i.e. per account and process), the product list (30 a page) and get,
publishing through schema add / incremental schema update, stock through inventory get + update,
and display on/off (20 ids a call)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.alibaba import wire
from adapters.alibaba.gop import Gop
from adapters.alibaba.mapping import issue
from adapters.alibaba.schema import CategorySchema, SchemaUnreadable, parse_rules
from odop_sync.adapter_sdk import ItemIssue, PayloadRejectedError, RemoteNotFoundError


@dataclass(frozen=True, slots=True)
class SchemaRefusal:
    """Alibaba.com would not serve the category's schema (not a leaf, unknown, not allowed)."""

    problems: list[tuple[str, str]]


class Products:
    def __init__(self, gop: Gop, language: str) -> None:
        self.gop = gop
        self.language = language
        self._schemas: dict[int, CategorySchema] = {}
        self._schema_locks: dict[int, asyncio.Lock] = {}
        # SKU (red_model) → plain product id, from every publish and read of this process.
        self.ids: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"<Products schemas={len(self._schemas)} known={len(self.ids)}>"

    # schemas --------------------------------------------------------------------------------

    async def schema(self, cat_id: int) -> CategorySchema | SchemaRefusal:
        if cat_id in self._schemas:
            return self._schemas[cat_id]
        async with self._schema_locks.setdefault(cat_id, asyncio.Lock()):
            if cat_id in self._schemas:
                return self._schemas[cat_id]
            # Flat cat_id and language: what the one GOP client observed sends (§7.5, O); the
            # TOP packaging in one JSON field is only inferred for GOP.
            answer = await self.gop.call(
                wire.SCHEMA_GET,
                {"cat_id": cat_id, "language": self.language},
                wire.SchemaAnswer,
            )
            if not answer.ok or not answer.data:
                return SchemaRefusal(answer.problems())
            try:
                schema = await asyncio.to_thread(parse_rules, answer.data)
            except SchemaUnreadable as exc:
                raise self.gop.unreadable(wire.OPERATIONS[wire.SCHEMA_GET]) from exc
            self._schemas[cat_id] = schema
            return schema

    # reading products -----------------------------------------------------------------------

    async def page(self, page: int, *, subject: str | None = None) -> wire.ProductPage:
        answer = await self.gop.call(
            wire.PRODUCT_LIST,
            {"current_page": page, "page_size": wire.PRODUCT_PAGE_SIZE, "subject": subject},
            wire.ProductListAnswer,
        )
        result: wire.ProductPage = answer.result
        for brief in result.products:
            if brief.red_model:
                self.ids.setdefault(brief.red_model, brief.id)
        return result

    async def scan(self, *, subject: str | None = None) -> dict[str, wire.ProductBrief]:
        """Every product of the seller (of those named like `subject`), by model number."""
        found: dict[str, wire.ProductBrief] = {}
        number = 1
        while True:
            result = await self.page(number, subject=subject)
            for brief in result.products:
                if brief.red_model:
                    found.setdefault(brief.red_model, brief)
            if not result.products or number * wire.PRODUCT_PAGE_SIZE >= result.total_item:
                return found
            number += 1

    async def find(self, sku: str, subject: str) -> int | None:
        """The product already published for `sku`, found by name then model number: a retry
        after a crash between publishing and recording updates it instead of publishing twice."""
        brief = (await self.scan(subject=subject)).get(sku)
        if brief is not None:
            self.ids[sku] = brief.id
        return brief.id if brief else None

    async def detail(self, product_id: int) -> wire.ProductDetail | None:
        """The product, or None when Alibaba.com does not know it (any more)."""
        try:
            answer = await self.gop.call(
                wire.PRODUCT_GET,
                {"product_get_request": wire.json_text({"productId": product_id})},
                wire.ProductGetAnswer,
            )
        except (RemoteNotFoundError, PayloadRejectedError):
            return None
        product: wire.ProductDetail | None = answer.product
        return product

    # writing products -----------------------------------------------------------------------

    async def publish(self, cat_id: int, product_id: int | None, xml: str) -> wire.PublishAnswer:
        """schema/add for a new product, incremental schema/update for a known one."""
        params: dict[str, str | int | None] = {
            "cat_id": cat_id,
            "language": self.language,
            "xml": xml,
        }
        if product_id is None:
            answer: wire.PublishAnswer = await self.gop.call(
                wire.SCHEMA_ADD, params, wire.PublishAnswer
            )
        else:
            params["product_id"] = product_id
            answer = await self.gop.call(wire.SCHEMA_UPDATE, params, wire.PublishAnswer)
        return answer

    async def set_stock(self, sku: str, product_id: int, quantity: int) -> ItemIssue | None:
        """Make the product's stock `quantity`: read the amount now and send the difference
        (the API takes changes, not amounts), read again on every attempt so a retry never
        replays a stale change."""
        got = await self.gop.call(
            wire.INVENTORY_GET,
            {"inventory_get_request": wire.json_text({"productId": str(product_id)})},
            wire.InventoryGetAnswer,
        )
        items = got.result.inventory_items
        current = sum((i.inventory.amount or 0) for i in items if i.inventory is not None)
        sku_id = int(items[0].sku_id) if len(items) == 1 else wire.NO_SKU
        change = quantity - current
        if change == 0:
            return None
        request = {
            "product_id": product_id,
            "inventory_list": [
                {
                    "sku_id": sku_id,
                    "inventory_code": wire.DEFAULT_STORE,
                    "inventory": abs(change),
                    "operate": "plus" if change > 0 else "sub",
                }
            ],
        }
        answer = await self.gop.call(
            wire.INVENTORY_UPDATE,
            {"request_param": wire.json_text(request)},
            wire.InventoryUpdateAnswer,
        )
        if answer.result.ok:
            return None
        words = "; ".join(f"{c}: {m}" for c, m in answer.result.problems()) or "no reason given"
        return issue(
            sku, "stock", f"Alibaba.com refused the stock of {quantity} ({words})", "STOCK"
        )

    async def display(self, wanted: Mapping[int, bool]) -> dict[int, str]:
        """Put products on (True) or off (False) the shelf; product id → the platform's reason
        for each one it refused (fail_id_map)."""
        failed: dict[int, str] = {}
        for on in (True, False):
            ids = [pid for pid, want in wanted.items() if want is on]
            for start in range(0, len(ids), wire.DISPLAY_IDS_PER_CALL):
                chunk = ids[start : start + wire.DISPLAY_IDS_PER_CALL]
                answer = await self.gop.call(
                    wire.UPDATE_DISPLAY,
                    {
                        "product_id_list": wire.json_text([str(pid) for pid in chunk]),
                        "new_display": "on" if on else "off",
                    },
                    wire.DisplayAnswer,
                )
                reasons = answer.failures()
                for pid in chunk:
                    if str(pid) in reasons:
                        failed[pid] = reasons[str(pid)]
                    elif answer.success is False and not reasons:
                        failed[pid] = "refused without a reason"
        return failed


__all__ = ["Products", "SchemaRefusal"]
