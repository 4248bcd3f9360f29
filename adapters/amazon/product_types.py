"""The craft → Amazon product type map: product_types.toml in this package (an operator's copy
at $ODOP_CONFIG_DIR/amazon/product_types.toml wins). Never a path from an account's input."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from odop_sync.adapter_sdk import adapter_data_file

FILE = "product_types.toml"


@dataclass(frozen=True, slots=True)
class ProductType:
    name: str
    item_type_keyword: str
    required: tuple[str, ...]
    items: tuple[str, ...] = ()
    crafts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProductTypeMap:
    types: Mapping[str, ProductType]
    default: str

    @classmethod
    def from_toml(cls, data: Mapping[str, Any]) -> ProductTypeMap:
        common = tuple(data.get("common_required", ()))
        types = {
            name: ProductType(
                name=name,
                item_type_keyword=spec["item_type_keyword"],
                required=common + tuple(r for r in spec.get("required", ()) if r not in common),
                items=tuple(spec.get("items", ())),
                crafts=tuple(spec.get("crafts", ())),
            )
            for name, spec in data.get("product_types", {}).items()
        }
        default = data.get("default_product_type", "HOME")
        if default not in types:
            raise ValueError(f"default product type {default!r} is not defined")
        return cls(types, default)

    def get(self, name: str) -> ProductType:
        # Types we do not map (e.g. an explicit override) still need Amazon's common attributes.
        return self.types.get(name) or ProductType(
            name, self.types[self.default].item_type_keyword, self.types[self.default].required
        )

    def choose(
        self,
        *,
        explicit: str | None = None,
        hint: str | None = None,
        title: str = "",
        craft: str | None = None,
        odop_product: str | None = None,
    ) -> ProductType:
        if explicit:
            return self.get(explicit.upper())
        if hint and hint.upper() in self.types:
            return self.types[hint.upper()]
        context = " ".join(t for t in (odop_product, craft) if t)
        for text, attr in ((title, "items"), (context, "items"), (f"{context} {title}", "crafts")):
            for ptype in self.types.values():
                if any(_mentions(text, word) for word in getattr(ptype, attr)):
                    return ptype
        return self.types[self.default]


@cache
def _word(word: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(word.lower())}(s|es)?\b")


def _mentions(text: str, word: str) -> bool:
    return bool(_word(word).search(text.lower()))


def load_product_types() -> ProductTypeMap:
    return _load(adapter_data_file(__package__ or "adapters.amazon", FILE).resolve())


@cache
def _load(path: Path) -> ProductTypeMap:
    with path.open("rb") as fh:
        return ProductTypeMap.from_toml(tomllib.load(fh))
