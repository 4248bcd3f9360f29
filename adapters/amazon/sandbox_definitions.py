"""The product type definitions the Amazon sandbox judges listings by: sandbox_product_types.toml
in this package, Amazon's published `required` lists with the source of each (see the file).

They are the sandbox's own: the adapter's product type map (product_types.toml) is what the
adapter believes Amazon wants, and the sandbox is there to check that belief, so it never reads
it. No operator copy (ODOP_CONFIG_DIR) replaces this file either: it stands for Amazon.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

FILE = "sandbox_product_types.toml"
# putListingsItem's `requirements` (ListingsItemPutRequest): which parts a submission carries.
LISTING = "LISTING"
OFFER_ONLY = "LISTING_OFFER_ONLY"
# The product type offer-only data and offer patches are sent under (no product facts checked).
OFFER_PRODUCT_TYPE = "PRODUCT"
# How the Listings Items API reports a missing required attribute (listingsItems_2021-08-01.json,
# putListingsItem examples: "'size' is required but not supplied.", MISSING_ATTRIBUTE).
MISSING_CODE = "90220"
MISSING_CATEGORY = "MISSING_ATTRIBUTE"


def missing_message(attribute: str) -> str:
    return f"'{attribute}' is required but not supplied."


@dataclass(frozen=True, slots=True)
class ProductTypeDefinitions:
    """Per product type, the top-level `required` of its schema; `offer` is what a LISTING
    (product and offer) submission needs besides; `default` is for types the file lacks."""

    types: Mapping[str, tuple[str, ...]]
    default: tuple[str, ...]
    offer: tuple[str, ...]
    sources: Mapping[str, str]

    @classmethod
    def from_toml(cls, data: Mapping[str, Any]) -> ProductTypeDefinitions:
        types = {
            name: tuple(spec["required"]) for name, spec in data.get("product_types", {}).items()
        }
        sources = {name: spec["source"] for name, spec in data.get("product_types", {}).items()}
        return cls(
            types=types,
            default=tuple(data["default"]["required"]),
            offer=tuple(data["offer"]["required"]),
            sources=sources,
        )

    def required(self, product_type: str, requirements: str = LISTING) -> tuple[str, ...]:
        """The attributes a submission of `product_type` with `requirements` must carry."""
        if requirements == OFFER_ONLY or product_type == OFFER_PRODUCT_TYPE:
            return ()
        product = self.types.get(product_type, self.default)
        return product + (self.offer if requirements == LISTING else ())


@cache
def load_definitions() -> ProductTypeDefinitions:
    text = resources.files(__package__ or "adapters.amazon").joinpath(FILE).read_text("utf-8")
    return ProductTypeDefinitions.from_toml(tomllib.loads(text))
