"""A sample listing for adapter tests (re-exported by `odop_sync.adapter_sdk.testing`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from odop_sync.adapter_sdk._dtos import ListingPayload, Money, PackageDimensions

__all__ = ["sample_listing"]


def sample_listing(sku: str, **overrides: Any) -> ListingPayload:
    """A complete listing (a Bhadohi hand-knotted carpet) for adapter tests; override fields."""
    values: dict[str, Any] = {
        "sku": sku,
        "product_ref": sku.rsplit("-", 1)[0],
        "title": "Bhadohi hand-knotted wool carpet, 5x8 ft",
        "title_hi": "भदोही हाथ से बुना ऊनी कालीन",
        "description": "Hand-knotted by weavers of the Bhadohi carpet cluster.",
        "bullet_points": ("Hand-knotted", "New Zealand wool pile"),
        "brand": "Bhadohi Weavers SHG",
        "craft": "carpet weaving",
        "odop_product": "Carpets",
        "hsn_code": "570110",
        "gst_rate": Decimal(5),
        "mrp": Money(amount=1_499_900),
        "price": Money(amount=1_249_900),
        "quantity": 4,
        "images": ("https://img.example.org/bhadohi-carpet.jpg",),
        "package": PackageDimensions(
            length_cm=Decimal(160),
            width_cm=Decimal(30),
            height_cm=Decimal(30),
            weight_g=Decimal(9000),
        ),
        "material": "Wool",
        "color": "Red",
        "size": "5x8 ft",
        "district": "Bhadohi",
        "gi_tag": "Bhadohi Handmade Carpet",
    }
    values.update(overrides)
    return ListingPayload(**values)
