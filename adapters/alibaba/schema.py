"""The XML "schema" of Alibaba.com's product APIs (PROTOCOL §7.5-7.7): a rules document per leaf
category (schema/get `data`), and the value document sent to schema/add and schema/update.

The shapes follow the Taobao-style conventions the reference reports (U) as the project reads
them (adapters/alibaba/CONTRACT.md): a root `itemSchema` of `<field id name type>` elements with
`<rules><rule name value/></rules>`, `<options><option displayName value/></options>` and, for
complex fields, `<fields>` of their own; a value document has the same root and field ids with
`<value>` (input, singleCheck), `<values><value>…</value></values>` (multiCheck, multiInput) or
one `<complex-values>` per row of inner `<field id><value>…</value></field>` (multiComplex).
Only what the rules document advertises is ever sent. The rules XML comes from the marketplace:
it is parsed with defusedxml, off the event loop by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree as SafeET

ROOT = "itemSchema"
MULTI_TYPES = frozenset({"multiCheck", "multiInput"})
COMPLEX_TYPES = frozenset({"complex", "multiComplex"})

# A field's value: text (input, singleCheck), texts (multi*), rows of inner texts (complex).
Value = str | list[str] | list[dict[str, str]]


class SchemaUnreadable(ValueError):
    """The rules document is not one this adapter can read."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    id: str
    name: str
    type: str
    rules: Mapping[str, str] = field(default_factory=dict)
    options: tuple[tuple[str, str], ...] = ()  # (value, displayName)
    fields: tuple[FieldSpec, ...] = ()

    @property
    def label(self) -> str:
        """How the field is named in messages: the marketplace's name and its id."""
        return f"{self.name} ({self.id})" if self.name and self.name != self.id else self.id

    @property
    def required(self) -> bool:
        return self.rules.get("requiredRule", "").lower() == "true"

    def number_rule(self, name: str) -> float | None:
        raw = self.rules.get(name)
        try:
            return float(raw) if raw is not None else None
        except ValueError:
            return None

    def option_for(self, wanted: str) -> str | None:
        """The option value matching `wanted` by value or display name (any case)."""
        low = wanted.strip().casefold()
        for value, display in self.options:
            if low in (value.casefold(), display.casefold()):
                return value
        return None


@dataclass(frozen=True, slots=True)
class CategorySchema:
    fields: Mapping[str, FieldSpec]

    def get(self, field_id: str) -> FieldSpec | None:
        return self.fields.get(field_id)

    def by_name(self, name: str) -> FieldSpec | None:
        low = name.strip().casefold()
        return next((f for f in self.fields.values() if f.name.strip().casefold() == low), None)

    @property
    def required(self) -> list[FieldSpec]:
        return [f for f in self.fields.values() if f.required]


def _field(element: Any) -> FieldSpec:
    field_id = element.get("id")
    if not field_id:
        raise SchemaUnreadable("a field without an id")
    rules = {
        r.get("name", ""): r.get("value", "")
        for r in element.findall("./rules/rule")
        if r.get("name")
    }
    options = tuple(
        (o.get("value", ""), o.get("displayName") or o.get("value", ""))
        for o in element.findall("./options/option")
    )
    children = tuple(_field(child) for child in element.findall("./fields/field"))
    return FieldSpec(
        id=field_id,
        name=element.get("name") or field_id,
        type=element.get("type") or "input",
        rules=rules,
        options=options,
        fields=children,
    )


def parse_rules(xml_text: str) -> CategorySchema:
    """A rules document → its top-level fields by id."""
    try:
        root = SafeET.fromstring(xml_text)
    except Exception as exc:  # ParseError and defusedxml's refusals
        raise SchemaUnreadable(f"not readable XML ({type(exc).__name__})") from None
    if root.tag != ROOT:
        raise SchemaUnreadable(f"root element {root.tag!r}, not {ROOT}")
    fields = [_field(child) for child in root.findall("./field")]
    return CategorySchema({f.id: f for f in fields})


def _put(parent: Element, spec: FieldSpec, value: Value) -> None:
    element = SubElement(parent, "field", id=spec.id, type=spec.type)
    if spec.type in COMPLEX_TYPES:
        rows = value if isinstance(value, list) else []
        inner = {f.id: f for f in spec.fields}
        for row in rows:
            if not isinstance(row, dict):
                continue
            group = SubElement(element, "complex-values")
            for key, text in row.items():
                child = inner.get(key) or FieldSpec(key, key, "input")
                inner_field = SubElement(group, "field", id=child.id, type=child.type)
                SubElement(inner_field, "value").text = str(text)
    elif spec.type in MULTI_TYPES:
        values = SubElement(element, "values")
        for item in value if isinstance(value, list) else [value]:
            SubElement(values, "value").text = str(item)
    else:
        SubElement(element, "value").text = value if isinstance(value, str) else str(value)


def value_document(schema: CategorySchema, values: Mapping[str, Value]) -> str:
    """The value document for the fields of `values` the schema advertises, in its order."""
    root = Element(ROOT)
    for field_id, spec in schema.fields.items():
        if field_id in values:
            _put(root, spec, values[field_id])
    return tostring(root, encoding="unicode")


__all__ = [
    "CategorySchema",
    "FieldSpec",
    "SchemaUnreadable",
    "Value",
    "parse_rules",
    "value_document",
]
