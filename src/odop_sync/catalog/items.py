"""The canonical catalog input: one validated variant row (`ItemIn`) and one producer
(`ProducerIn`), as batches, the variant PATCH and the engine's tests build them.

`odop_sync.catalog.rules` turns raw rows into these values.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from odop_sync.catalog.b2b import WholesaleTerms
from odop_sync.kit.money import paise_to_rupees
from odop_sync.models import ProducerKind

__all__ = ["ItemIn", "ProducerIn", "decimal_text"]


@dataclass(frozen=True, slots=True)
class ItemIn:
    """One canonical, validated variant row."""

    row: int
    sku: str
    product_ref: str
    producer_ref: str
    title_en: str
    title_hi: str | None
    description_en: str | None
    description_hi: str | None
    district_code: str | None
    craft: str | None
    odop_product: str | None
    gi_tag: str | None
    hsn_code: str
    gst_rate: Decimal
    mrp_paise: int
    price_paise: int
    stock: int
    weight_g: Decimal | None
    length_cm: Decimal | None
    width_cm: Decimal | None
    height_cm: Decimal | None
    material: str | None
    color: str | None
    size: str | None
    images: tuple[str, ...]
    attributes: dict[str, Any]
    b2b: WholesaleTerms | None = None  # the product's wholesale terms (a product column)

    def to_json(self) -> dict[str, Any]:
        """JSON-safe canonical fields: Decimals as normalised strings ("0.25", "5", "12.5"),
        money both as rupee strings ("1250.00") and as `*_paise` integers. No row number.
        "b2b" only when the product has wholesale terms: a row without them hashes as it did
        before they existed."""
        # Spelled out field by field (in declaration order): this runs for every row of every
        # batch, and a loop over __slots__ with getattr/isinstance cost more than the hashing.
        weight, length, width, height = self.weight_g, self.length_cm, self.width_cm, self.height_cm
        out: dict[str, Any] = {
            "sku": self.sku,
            "product_ref": self.product_ref,
            "producer_ref": self.producer_ref,
            "title_en": self.title_en,
            "title_hi": self.title_hi,
            "description_en": self.description_en,
            "description_hi": self.description_hi,
            "district_code": self.district_code,
            "craft": self.craft,
            "odop_product": self.odop_product,
            "gi_tag": self.gi_tag,
            "hsn_code": self.hsn_code,
            "gst_rate": decimal_text(self.gst_rate),
            "mrp_paise": self.mrp_paise,
            "price_paise": self.price_paise,
            "stock": self.stock,
            "weight_g": None if weight is None else decimal_text(weight),
            "length_cm": None if length is None else decimal_text(length),
            "width_cm": None if width is None else decimal_text(width),
            "height_cm": None if height is None else decimal_text(height),
            "material": self.material,
            "color": self.color,
            "size": self.size,
            "images": list(self.images),
            "attributes": self.attributes,
            "mrp": _rupees_text(self.mrp_paise),
            "price": _rupees_text(self.price_paise),
        }
        if self.b2b is not None:
            out["b2b"] = self.b2b.to_json()
        return out

    def content_hash(self, data: dict[str, Any] | None = None) -> str:
        """SHA-256 (hex) of the key-sorted canonical JSON of everything but the row number and
        stock: a re-sent row with only new stock is "unchanged" content. Pass `to_json()` when
        you have it already."""
        data = dict(data if data is not None else self.to_json())
        data.pop("stock")
        return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True, slots=True)
class ProducerIn:
    ref: str
    kind: ProducerKind
    name_en: str
    name_hi: str | None
    district_code: str | None
    craft: str | None
    pehchan_card: str | None
    udyam_number: str | None
    gstin: str | None
    phone: str | None

    def to_json(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__}
        out["kind"] = self.kind.value
        return out


def decimal_text(value: Decimal) -> str:
    """A Decimal as a normalised plain string: "0.25", "5", "12.5"."""
    normal = value.normalize()
    return format(normal, "f")


@functools.lru_cache(maxsize=8192)
def _rupees_text(paise: int) -> str:
    return str(paise_to_rupees(paise))
