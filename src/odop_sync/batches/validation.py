"""Moved: the canonical item and producer models live in `odop_sync.catalog.items`, their
validation rules in `odop_sync.catalog.rules`. This name stays only for `odop_sync.cli`, which is
outside the change that moved them; import from `odop_sync.catalog` in new code."""

from __future__ import annotations

from odop_sync.catalog.items import ItemIn, ProducerIn
from odop_sync.catalog.rules import (
    PRODUCT_COLUMNS,
    Rules,
    gst_rates_in_force,
    india_today,
    product_fields,
    validate_item,
    validate_producer,
)

__all__ = [
    "PRODUCT_COLUMNS",
    "ItemIn",
    "ProducerIn",
    "Rules",
    "gst_rates_in_force",
    "india_today",
    "product_fields",
    "validate_item",
    "validate_producer",
]
