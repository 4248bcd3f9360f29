"""Category get and the XML-schema publishing APIs of the sandbox (PROTOCOL.md §7.4-§7.7):
schema get, render and level get serve the rules of the sandbox's own categories; schema add
(publish) and schema update (incremental) are judged against the schema served for the
product's category (sandbox_schema) and answer with the business status of §5.1 (`biz_success`,
`msg_code`, `message`, `trace_id`). An injected per-SKU rejection (FaultInjector.reject) refuses
any add or update of a product whose red_model is that SKU.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from adapters.alibaba.sandbox_gateway import INVALID, MISSING, GopError
from adapters.alibaba.sandbox_products import ProductStore, normal_url
from adapters.alibaba.sandbox_schema import (
    BAD_VALUE,
    NOT_EDITABLE,
    Category,
    CategoryTree,
    Issue,
    Refused,
    Values,
    judge,
    level_xml,
    merge,
    parse_values,
    rules_xml,
)
from odop_sync.adapter_sdk.sandbox import FaultInjector

# PROTOCOL §7.5-§7.7: en_US / zh / zh_TW per the TOP docs; one client sends ENGLISH.
DEFAULT_LANGUAGE = "en_US"


def _trace() -> str:
    return uuid.uuid4().hex[:24]


def _done(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"biz_success": True, **payload, "trace_id": _trace()}


def _refused(error: Refused) -> dict[str, Any]:
    return {**error.answer(), "trace_id": _trace()}


def _target(params: Mapping[str, Any]) -> tuple[int, str]:
    """cat_id and language, flat or packed in param_product_top_publish_request (schema get
    takes both packagings: PROTOCOL §7.5, I)."""
    packed = params.get("param_product_top_publish_request") or {}
    cat_id = params.get("cat_id", packed.get("cat_id"))
    if cat_id is None:
        raise GopError(MISSING, "cat_id is required")
    language = params.get("language", packed.get("language", DEFAULT_LANGUAGE))
    return int(cat_id), str(language)


def _judged(
    category: Category,
    xml: str,
    stored: Values | None,
    own: Callable[[str], bool],
) -> tuple[Values, list[Issue]]:
    """Parse and judge a value document (off the event loop: it is the heavy part)."""
    given, issues = parse_values(category, xml)
    values = merge(stored or {}, given)
    return values, issues + judge(category, values, own)


class Publisher:
    def __init__(self, tree: CategoryTree, products: ProductStore, faults: FaultInjector) -> None:
        self.tree = tree
        self.products = products
        self.faults = faults

    def category(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """category get (§7.4): cat_id 0 is the root holding the first-level categories."""
        cat_id = params["cat_id"]
        if cat_id == 0:
            return {"category": self.tree.root()}
        node = self.tree.nodes.get(cat_id)
        if node is None:
            raise GopError(INVALID, f"cat_id: category {cat_id} does not exist")
        return {"category": node.brief(self.tree.nodes)}

    def schema(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """schema get (§7.5): the rules XML of a leaf category in `data`."""
        cat_id, _ = _target(params)
        try:
            return _done({"data": rules_xml(self.tree.leaf(cat_id))})
        except Refused as error:
            return _refused(error)

    def render(self, seller: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """schema render (§7.5): the rules with the product's current values."""
        try:
            category = self.tree.leaf(params["cat_id"])
            row = self._editable(seller, params["product_id"], category)
            return _done({"data": rules_xml(category, row["values"])})
        except Refused as error:
            return _refused(error)

    def level(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """schema level get (§7.5): the next level of a cascading field, under `result`."""
        try:
            category = self.tree.leaf(params["cat_id"])
            return {"result": _done({"data": level_xml(category, params["xml"])})}
        except Refused as error:
            return {"result": _refused(error)}

    async def add(self, seller: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """schema add (§7.6): a new product, on shelf, from a complete value document."""
        try:
            category = self.tree.leaf(params["cat_id"])
            values = await self._values(seller, category, params["xml"], None)
        except Refused as error:
            return _refused(error)
        language = str(params.get("language", DEFAULT_LANGUAGE))
        row = self.products.create(seller, category.id, language, values)
        return _done({"product_id": row["id"]})

    async def update(self, seller: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """schema update (§7.7): only the fields present change; the result must still be a
        valid product of its category."""
        try:
            category = self.tree.leaf(params["cat_id"])
            row = self._editable(seller, params["product_id"], category)
            values = await self._values(seller, category, params["xml"], row["values"])
        except Refused as error:
            return _refused(error)
        row["values"] = values
        row["language"] = str(params.get("language", row["language"]))
        self.products.save(seller, row)
        return _done({"product_id": row["id"]})

    def _editable(self, seller: str, given: int, category: Category) -> dict[str, Any]:
        row, why = self.products.find(seller, given)
        if row is None:
            raise Refused([Issue(NOT_EDITABLE, "product_id", why)])
        if row["cat_id"] != category.id:
            raise Refused(
                [Issue(BAD_VALUE, "cat_id", f"product {given} is in category {row['cat_id']}")]
            )
        return row

    async def _values(
        self, seller: str, category: Category, xml: str, stored: Values | None
    ) -> Values:
        bank = frozenset(self.products.state.table(seller, "photobank"))
        values, issues = await asyncio.to_thread(
            _judged, category, xml, stored, lambda url: normal_url(url) in bank
        )
        sku = values.get("red_model")
        rejection = self.faults.rejection_for(sku) if isinstance(sku, str) else None
        if rejection is not None:
            text = f"{rejection.message} (red_model {sku})"
            issues.append(Issue(rejection.code, rejection.field, text))
        if issues:
            raise Refused(issues)
        return values
