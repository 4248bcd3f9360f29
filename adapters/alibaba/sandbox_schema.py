"""The sandbox's categories and their publishing schema (PROTOCOL.md §7.4-§7.7): the rules XML it
serves on schema/get and schema/render, and the judgement of the value XML that schema/add and
schema/update send back, against the schema it served for that category.

The XML vocabulary is the contract note's reading (Taobao-style conventions, U): a rules document
`<itemSchema>` of `<field id name type>` with `<rules><rule name value/></rules>`,
`<options><option displayName value/></options>` and, for multiComplex, `<fields>`; a value
document of the same root and ids with `<value>` (input, singleCheck), `<values><value/>…</values>`
(multiInput, multiCheck) or one `<complex-values>` per row holding `<field id><value/></field>`
(multiComplex). An empty value clears an optional field.

Business codes: CHK_BASIC_REQUIRED, CHK_CAT_NOT_LEAF, PUB_BIZCHECK_CAT_ID_NOTEXIST,
PUB_BIZCHECK_DESCRIPTION_IMAGE_SOURCE_ERROR and PUB_BIZCHECK_PRODUCT_NOT_EDITABLE are the ones
PROTOCOL §5.3 lists (U-REF); the platform's codes for the other refusals are not known, so the
sandbox names its own in the same family (I): CHK_BASIC_FIELD_NOT_EXIST (an id the schema does
not advertise), CHK_BASIC_OPTION_INVALID (not one of the options), CHK_BASIC_VALUE_INVALID (type,
format, range, length, count) and CHK_BASIC_NOT_ASCENDING (tiers not ascending). Each message
starts with the field id: `<field id>: <what is wrong>`.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree as SafeTree

from adapters.alibaba.sandbox_gateway import XML_PARSE, GopError

REQUIRED = "CHK_BASIC_REQUIRED"
NOT_LEAF = "CHK_CAT_NOT_LEAF"
NO_CATEGORY = "PUB_BIZCHECK_CAT_ID_NOTEXIST"
IMAGE_SOURCE = "PUB_BIZCHECK_DESCRIPTION_IMAGE_SOURCE_ERROR"
NOT_EDITABLE = "PUB_BIZCHECK_PRODUCT_NOT_EDITABLE"
UNKNOWN_FIELD = "CHK_BASIC_FIELD_NOT_EXIST"
BAD_OPTION = "CHK_BASIC_OPTION_INVALID"
BAD_VALUE = "CHK_BASIC_VALUE_INVALID"
NOT_ASCENDING = "CHK_BASIC_NOT_ASCENDING"

CATEGORIES_FILE = Path(__file__).with_name("sandbox_categories.toml")
MULTI = ("multiInput", "multiCheck")
_IMG_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_INTEGER = re.compile(r"^[0-9]+$")
_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")

Row = dict[str, str]
Value = str | list[str] | list[Row]
Values = dict[str, Value]


@dataclass(frozen=True)
class Issue:
    code: str
    field: str
    message: str

    @property
    def text(self) -> str:
        return f"{self.field}: {self.message}"


class Refused(Exception):
    """A business failure of a schema API: `biz_success` false with these issues."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(issue.text for issue in issues))
        self.issues = issues

    def answer(self) -> dict[str, Any]:
        """BizStatus (PROTOCOL §5.1): `;`-separated codes and messages."""
        return {
            "biz_success": False,
            "msg_code": ";".join(issue.code for issue in self.issues),
            "message": ";".join(issue.text for issue in self.issues),
        }


@dataclass(frozen=True)
class Rule:
    """One field of a category's schema and what its value must be."""

    id: str
    name: str
    type: str
    required: bool = False
    max_length: int | None = None
    value_type: str = "text"
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    decimals: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    options: tuple[str, ...] = ()
    forbidden_chars: str = ""
    pattern: str | None = None
    image_source: str | None = None
    ascending: str | None = None
    children: tuple[Rule, ...] = ()
    attribute_id: int | None = None
    level_parent: str | None = None  # attr_1003 for attr_1008: options come by the parent
    levels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    level_child: str | None = None

    def rules(self) -> list[tuple[str, str]]:
        pairs = [
            ("requiredRule", "true" if self.required else None),
            ("maxLengthRule", self.max_length),
            ("valueTypeRule", None if self.value_type == "text" else self.value_type),
            ("minValueRule", self.min_value),
            ("maxValueRule", self.max_value),
            ("maxDecimalDigitsRule", self.decimals),
            ("minItemsRule", self.min_items),
            ("maxItemsRule", self.max_items),
            ("forbiddenCharsRule", self.forbidden_chars or None),
            ("regexRule", self.pattern),
            ("imageSourceRule", self.image_source),
            ("ascendingRule", self.ascending),
            ("levelRule", self.level_parent),
        ]
        return [(name, str(value)) for name, value in pairs if value is not None]


def _rule(raw: Mapping[str, Any], lists: Mapping[str, list[str]]) -> Rule:
    options = raw.get("options", ())
    return Rule(
        id=raw["id"],
        name=raw["name"],
        type=raw["type"],
        required=bool(raw.get("required", False)),
        max_length=raw.get("max_length"),
        value_type=raw.get("value_type", "text"),
        min_value=Decimal(raw["min_value"]) if "min_value" in raw else None,
        max_value=Decimal(raw["max_value"]) if "max_value" in raw else None,
        decimals=raw.get("decimals"),
        min_items=raw.get("min_items"),
        max_items=raw.get("max_items"),
        options=tuple(lists[options] if isinstance(options, str) else options),
        forbidden_chars=raw.get("forbidden_chars", ""),
        pattern=raw.get("pattern"),
        image_source=raw.get("image_source"),
        ascending=raw.get("ascending"),
        children=tuple(_rule(child, lists) for child in raw.get("children", ())),
    )


def _attribute(number: int, raw: Mapping[str, Any], required: bool) -> Rule:
    return Rule(
        id=f"attr_{number}",
        name=raw["name"],
        type=raw["type"],
        required=required,
        max_length=raw.get("max_length"),
        options=tuple(raw.get("options", ())),
        attribute_id=number,
        level_parent=f"attr_{raw['parent']}" if "parent" in raw else None,
        levels={k: tuple(v) for k, v in raw.get("levels", {}).items()},
        level_child=f"attr_{raw['child']}" if "child" in raw else None,
    )


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    parent: int | None
    level: int
    children: tuple[int, ...]
    rules: tuple[Rule, ...]

    @property
    def leaf(self) -> bool:
        return not self.children

    @cached_property
    def by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    def parents(self, tree: Mapping[int, Category]) -> list[int]:
        out: list[int] = []
        node = self.parent
        while node is not None:
            out.insert(0, node)
            node = tree[node].parent
        return out

    def brief(self, tree: Mapping[int, Category]) -> dict[str, Any]:
        """category/get's `category` (PROTOCOL §7.4, ids as numbers as in TOP `get`)."""
        return {
            "category_id": self.id,
            "name": self.name,
            "level": self.level,
            "leaf_category": self.leaf,
            "parent_ids": self.parents(tree),
            "child_ids": list(self.children),
        }


class CategoryTree:
    """The sandbox's categories (sandbox_categories.toml) and their schemas."""

    def __init__(self, path: Path = CATEGORIES_FILE) -> None:
        data = tomllib.loads(path.read_text("utf-8"))
        lists = {"units": data["units"], "payment_methods": data["payment_methods"]}
        standard = [_rule(raw, lists) for raw in data["field"]]
        attributes = {int(k): v for k, v in data["attribute"].items()}
        raw_nodes = {int(c["id"]): c for c in data["category"]}
        self.nodes: dict[int, Category] = {}
        for number, raw in raw_nodes.items():
            children = tuple(n for n, c in raw_nodes.items() if c.get("parent") == number)
            level, node = 1, raw
            while "parent" in node:
                level, node = level + 1, raw_nodes[int(node["parent"])]
            rules: tuple[Rule, ...] = ()
            if not children:
                wanted = [(a, True) for a in raw.get("required", ())]
                wanted += [(a, False) for a in raw.get("optional", ())]
                rules = (*standard, *(_attribute(a, attributes[a], r) for a, r in wanted))
            self.nodes[number] = Category(
                number, raw["name"], raw.get("parent"), level, children, rules
            )
        self.roots = [n for n, c in self.nodes.items() if c.parent is None]

    def root(self) -> dict[str, Any]:
        """cat_id 0: the first-level categories (PROTOCOL §7.4)."""
        return {
            "category_id": 0,
            "name": "All Categories",
            "level": 0,
            "leaf_category": False,
            "parent_ids": [],
            "child_ids": self.roots,
        }

    def leaf(self, cat_id: int) -> Category:
        """The leaf category `cat_id`; Refused (a business failure) if unknown or not a leaf."""
        category = self.nodes.get(cat_id)
        if category is None:
            raise Refused([Issue(NO_CATEGORY, "cat_id", f"category {cat_id} does not exist")])
        if not category.leaf:
            raise Refused([Issue(NOT_LEAF, "cat_id", f"category {cat_id} is not a leaf")])
        return category


# The rules document ---------------------------------------------------------------------------


def _field_element(parent: Element, rule: Rule, value: Value | None) -> None:
    node = SubElement(parent, "field", id=rule.id, name=rule.name, type=rule.type)
    pairs = rule.rules()
    if pairs:
        rules = SubElement(node, "rules")
        for name, text in pairs:
            SubElement(rules, "rule", name=name, value=text)
    if rule.options:
        options = SubElement(node, "options")
        for option in rule.options:
            SubElement(options, "option", displayName=option, value=option)
    if rule.children:
        fields = SubElement(node, "fields")
        for child in rule.children:
            _field_element(fields, child, None)
    if value is None:
        return
    if isinstance(value, str):
        SubElement(node, "value").text = value
    elif rule.type == "multiComplex":
        for row in value:
            holder = SubElement(node, "complex-values")
            for key, cell in row.items() if isinstance(row, dict) else ():
                SubElement(SubElement(holder, "field", id=key), "value").text = cell
    else:
        values = SubElement(node, "values")
        for item in value:
            SubElement(values, "value").text = str(item)


def rules_xml(category: Category, values: Values | None = None) -> str:
    """schema/get's `data` (values None) or schema/render's (the product's current values)."""
    root = Element("itemSchema", catId=str(category.id))
    for rule in category.rules:
        _field_element(root, rule, None if values is None else values.get(rule.id))
    return tostring(root, encoding="unicode")


def level_xml(category: Category, xml: str) -> str:
    """schema/level/get's `data`: the next level of each cascading field given a value in `xml`
    (an empty itemSchema when none has one)."""
    given = parse_values(category, xml)[0]
    root = Element("itemSchema", catId=str(category.id))
    for rule in category.rules:
        parent_value = given.get(rule.level_parent or "")
        if isinstance(parent_value, str) and parent_value:
            options = rule.levels.get(parent_value, ())
            _field_element(root, Rule(rule.id, rule.name, rule.type, options=options), None)
    return tostring(root, encoding="unicode")


# Reading a value document -----------------------------------------------------------------


def _text(node: Element) -> str:
    if len(node):
        raise ValueError("must be text (escape HTML or wrap it in CDATA)")
    return (node.text or "").strip()


def _read(rule: Rule, node: Element) -> Value:
    if rule.type == "multiComplex":
        rows: list[Row] = []
        for holder in node.findall("complex-values"):
            row: Row = {}
            for cell in holder.findall("field"):
                found = cell.find("value")
                row[cell.get("id", "")] = _text(found) if found is not None else ""
            rows.append(row)
        return rows
    if rule.type in MULTI:
        group = node.find("values")
        items = group.findall("value") if group is not None else []
        return [t for t in (_text(item) for item in items) if t]
    value = node.find("value")
    return _text(value) if value is not None else ""


def parse_values(category: Category, xml: str) -> tuple[Values, list[Issue]]:
    """The fields a value document gives (empty ones as "" or []) and the ids it may not use;
    GopError API_SCHEMA_XML_PARSE_ERROR when it is not well-formed XML of root itemSchema."""
    try:
        root = SafeTree.fromstring(xml)
    except Exception as exc:  # ParseError and defusedxml's refusals (DTDs, entities)
        raise GopError(XML_PARSE, f"xml cannot be parsed: {exc}") from None
    if root.tag != "itemSchema":
        raise GopError(XML_PARSE, f"xml: the root element must be itemSchema, not {root.tag}")
    values: Values = {}
    issues: list[Issue] = []
    for node in root.findall("field"):
        ident = node.get("id", "")
        rule = category.by_id.get(ident)
        if rule is None:
            issues.append(Issue(UNKNOWN_FIELD, ident or "field", "not a field of this category"))
        elif ident in values:
            issues.append(Issue(BAD_VALUE, ident, "given more than once"))
        else:
            try:
                values[ident] = _read(rule, node)
            except ValueError as exc:
                issues.append(Issue(BAD_VALUE, ident, str(exc)))
    return values, issues


def merge(stored: Values, given: Values) -> Values:
    """Incremental update: the fields given replace the stored ones, empty ones clear them."""
    out = dict(stored)
    for key, value in given.items():
        if value in ("", []):
            out.pop(key, None)
        else:
            out[key] = value
    return out


# Judging the values ---------------------------------------------------------------------------


def _scalar(rule: Rule, where: str, text: str) -> list[Issue]:
    issues: list[Issue] = []
    if rule.options and text not in rule.options:
        return [Issue(BAD_OPTION, where, f"{text!r} is not one of the options")]
    if rule.max_length is not None and len(text) > rule.max_length:
        issues.append(Issue(BAD_VALUE, where, f"at most {rule.max_length} characters"))
    if rule.forbidden_chars and any(c in text for c in rule.forbidden_chars):
        issues.append(Issue(BAD_VALUE, where, f"may not contain {rule.forbidden_chars!r}"))
    if rule.pattern and not re.match(rule.pattern, text):
        issues.append(Issue(BAD_VALUE, where, f"must match {rule.pattern}"))
    if rule.value_type in ("integer", "decimal"):
        issues += _number(rule, where, text)
    return issues


def _number(rule: Rule, where: str, text: str) -> list[Issue]:
    integer = rule.value_type == "integer"
    if not (_INTEGER if integer else _DECIMAL).match(text):
        kind = "an integer" if integer else "a number"
        return [Issue(BAD_VALUE, where, f"{text!r} is not {kind}")]
    try:
        number = Decimal(text)
    except InvalidOperation:
        return [Issue(BAD_VALUE, where, f"{text!r} is not a number")]
    issues = []
    exponent = number.as_tuple().exponent
    if rule.decimals is not None and isinstance(exponent, int) and -exponent > rule.decimals:
        issues.append(Issue(BAD_VALUE, where, f"at most {rule.decimals} decimals"))
    low, high = rule.min_value, rule.max_value
    if (low is not None and number < low) or (high is not None and number > high):
        issues.append(Issue(BAD_VALUE, where, f"{text} is outside {low}-{high}"))
    return issues


def _rows(rule: Rule, rows: list[Row]) -> list[Issue]:
    issues: list[Issue] = []
    columns = {child.id: child for child in rule.children}
    for n, row in enumerate(rows, start=1):
        for key in row.keys() - columns.keys():
            issues.append(Issue(UNKNOWN_FIELD, f"{rule.id}.{key}", "not a column of this field"))
        for child in rule.children:
            where = f"{rule.id}[{n}].{child.id}"
            if not row.get(child.id):
                if child.required:
                    issues.append(Issue(REQUIRED, where, f"{child.name} is required"))
                continue
            issues += _scalar(child, where, row[child.id])
    if rule.ascending and not issues:
        steps = [int(row[rule.ascending]) for row in rows if row.get(rule.ascending)]
        if any(b <= a for a, b in itertools.pairwise(steps)):
            issues.append(Issue(NOT_ASCENDING, rule.id, f"rows must ascend by {rule.ascending}"))
    return issues


def _images(rule: Rule, value: Value, own: Callable[[str], bool]) -> list[Issue]:
    if rule.image_source != "photobank":
        return []
    urls = _IMG_SRC.findall(value) if isinstance(value, str) else [str(v) for v in value]
    foreign = [url for url in urls if not own(url)]
    if not foreign:
        return []
    return [Issue(IMAGE_SOURCE, rule.id, f"image {foreign[0]} is not in the seller's photobank")]


def _field(rule: Rule, value: Value, values: Values, own: Callable[[str], bool]) -> list[Issue]:
    if rule.type == "multiComplex":
        rows = [r for r in value if isinstance(r, dict)]
        issues = _count(rule, len(rows))
        return issues + _rows(rule, rows)
    if rule.type in MULTI:
        texts = [str(v) for v in value]
        issues = _count(rule, len(texts))
        for text in texts:
            issues += _scalar(rule, rule.id, text)
        return issues + _images(rule, texts, own)
    text = str(value)
    if rule.level_parent is not None:
        parent = values.get(rule.level_parent)
        allowed = rule.levels.get(parent, ()) if isinstance(parent, str) else ()
        if text not in allowed:
            return [Issue(BAD_OPTION, rule.id, f"{text!r} is not a level of {parent!r}")]
    return _scalar(rule, rule.id, text) + _images(rule, text, own)


def _count(rule: Rule, n: int) -> list[Issue]:
    if rule.min_items is not None and n < rule.min_items:
        return [Issue(BAD_VALUE, rule.id, f"at least {rule.min_items} values")]
    if rule.max_items is not None and n > rule.max_items:
        return [Issue(BAD_VALUE, rule.id, f"at most {rule.max_items} values")]
    return []


def judge(category: Category, values: Values, own: Callable[[str], bool]) -> list[Issue]:
    """Everything wrong with a product's (merged) values against the category's schema;
    `own(url)` says whether an image URL is in the seller's photobank."""
    issues: list[Issue] = []
    for rule in category.rules:
        value = values.get(rule.id)
        if value is None or value in ("", []):
            if rule.required:
                issues.append(Issue(REQUIRED, rule.id, f"{rule.name} is required"))
            continue
        issues += _field(rule, value, values, own)
    return issues or _lowest_tier(values)


def _lowest_tier(values: Values) -> list[Issue]:
    """The lowest price tier starts at the minimum order quantity or above (I: a tier below the
    MOQ could never be ordered)."""
    moq, tiers = values.get("min_order_quantity"), values.get("bulk_discount_prices")
    if not isinstance(moq, str) or not isinstance(tiers, list) or not tiers:
        return []
    first = tiers[0].get("start_quantity", "") if isinstance(tiers[0], dict) else ""
    if first.isdigit() and moq.isdigit() and int(first) < int(moq):
        return [
            Issue(
                BAD_VALUE,
                "bulk_discount_prices",
                f"the first tier starts at {first}, below the minimum order quantity {moq}",
            )
        ]
    return []
