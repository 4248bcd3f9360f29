"""Rows of one product that disagree on a product column.

A product (one product_ref) has one title, one description, one craft…, however many variant
rows carry it, and the batch applies its rows in order: the later row's value is the one the
product keeps. That is right when the sheet means it, and a silent loss when it does not (a
copied row with an old title), so each such row gets a warning naming the column and the row
whose value it replaces.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Sequence
from typing import Any

from odop_sync.catalog.rules import PRODUCT_COLUMNS, Rules, product_fields
from odop_sync.kit.problems import FieldIssue
from odop_sync.kit.text import clean

__all__ = ["product_conflicts"]

SHOWN_CHARS = 60


def _key(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    return clean(data.get("product_ref")) or clean(data.get("sku"))


def _shown(column: str, value: Any, rules: Rules) -> str:
    if value is None:
        return "empty"
    if column == "district":
        found = rules.districts.by_code(value)
        value = found.name if found is not None else value
    text = str(value)
    if len(text) > SHOWN_CHARS:
        text = text[: SHOWN_CHARS - 1] + "…"
    return repr(text)


def product_conflicts(
    rows: Sequence[tuple[int, dict[str, Any]]], rules: Rules, skip: Container[int] = ()
) -> dict[int, list[FieldIssue]]:
    """Row number -> a warning per product column in which the row differs from the previous
    row of its product. Rows in `skip` (rejected already) and rows with an invalid product
    column (they will be rejected) neither warn nor are warned about."""
    keys = Counter(_key(data) for row_no, data in rows if row_no not in skip)
    previous: dict[str, tuple[int, dict[str, Any]]] = {}
    warnings: dict[int, list[FieldIssue]] = {}
    for row_no, data in rows:
        key = _key(data)
        if not key or keys[key] < 2 or row_no in skip:
            continue  # a product of one row cannot disagree with itself
        fields = product_fields(data, rules)
        if fields is None:
            continue
        ref = fields.pop("product_ref")
        earlier = previous.get(ref)
        previous[ref] = (row_no, fields)
        if earlier is None:
            continue
        earlier_row, earlier_fields = earlier
        issues = [
            FieldIssue(
                row=row_no,
                field=column,
                message=f"differs from row {earlier_row} of product {ref!r} "
                f"({_shown(column, earlier_fields[column], rules)} there, "
                f"{_shown(column, fields[column], rules)} here); a product has one {column}, "
                f"so this row's value replaces row {earlier_row}'s",
            )
            for column in PRODUCT_COLUMNS
            if earlier_fields[column] != fields[column]
        ]
        if issues:
            warnings[row_no] = issues
    return warnings
