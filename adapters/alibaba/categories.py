"""The craft → Alibaba.com category map: categories.toml in this package (an operator's copy at
$ODOP_CONFIG_DIR/alibaba/categories.toml wins). Never a path from an account's input."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from odop_sync.adapter_sdk import ListingPayload, adapter_data_file

FILE = "categories.toml"
# The payload fields an attribute rule may read.
SOURCES = frozenset(
    {
        "material",
        "color",
        "size",
        "craft",
        "district",
        "gi_tag",
        "brand",
        "manufacturer",
        "country_of_origin",
        "odop_product",
        "title",
    }
)


@dataclass(frozen=True, slots=True)
class AttributeRule:
    value: str | None = None
    source: str | None = None
    contains: tuple[tuple[str, str], ...] = ()
    countries: bool = False
    default: str | None = None

    @classmethod
    def from_toml(cls, name: str, spec: Mapping[str, Any]) -> AttributeRule:
        source = spec.get("source")
        if (
            source is not None
            and source not in SOURCES
            and not str(source).startswith("attributes.")
        ):
            raise ValueError(f"attribute {name!r}: unknown source {source!r}")
        return cls(
            value=spec.get("value"),
            source=source,
            contains=tuple(
                (str(k).casefold(), str(v)) for k, v in spec.get("contains", {}).items()
            ),
            countries=bool(spec.get("countries", False)),
            default=spec.get("default"),
        )

    def resolve(self, item: ListingPayload, countries: Mapping[str, str]) -> str | None:
        if self.value is not None:
            return self.value
        text = _source_text(item, self.source) if self.source else None
        if text and self.contains:
            low = text.casefold()
            found = next((v for k, v in self.contains if k in low), None)
            return found if found is not None else self.default
        if text and self.countries:
            return countries.get(text.upper(), text)
        return text or self.default


def _source_text(item: ListingPayload, source: str) -> str | None:
    if source.startswith("attributes."):
        raw = item.attributes.get(source.removeprefix("attributes."))
    else:
        raw = getattr(item, source, None)
    if raw is None or isinstance(raw, (dict, list)):
        return None
    text = str(raw).strip()
    return text or None


@dataclass(frozen=True, slots=True)
class Category:
    key: str
    cat_id: int
    name: str
    words: tuple[str, ...] = ()
    attributes: Mapping[str, AttributeRule] = field(default_factory=dict)

    def mentioned_in(self, text: str | None) -> bool:
        return bool(text) and any(_mentions(text or "", w) for w in self.words)


@dataclass(frozen=True, slots=True)
class CategoryMap:
    categories: Mapping[str, Category]
    countries: Mapping[str, str]

    @classmethod
    def from_toml(cls, data: Mapping[str, Any]) -> CategoryMap:
        common = {
            name: AttributeRule.from_toml(name, spec)
            for name, spec in data.get("common", {}).get("attributes", {}).items()
        }
        categories = {}
        for key, spec in data.get("categories", {}).items():
            own = {
                name: AttributeRule.from_toml(name, rule)
                for name, rule in spec.get("attributes", {}).items()
            }
            categories[key] = Category(
                key=key,
                cat_id=int(spec["cat_id"]),
                name=str(spec.get("name", key)),
                words=tuple(str(w).casefold() for w in spec.get("words", ())),
                attributes={**common, **own},
            )
        countries = {str(k).upper(): str(v) for k, v in data.get("countries", {}).items()}
        return cls(categories, countries)

    def by_choice(self, choice: Any) -> Category | None:
        """The category a product names itself: a key of the map or a category id."""
        text = str(choice).strip()
        if text in self.categories:
            return self.categories[text]
        if text.isdigit():
            cat_id = int(text)
            known = next((c for c in self.categories.values() if c.cat_id == cat_id), None)
            return known or Category(key=text, cat_id=cat_id, name=f"category {cat_id}")
        return None

    def choose(self, item: ListingPayload, choice: Any = None) -> Category | None:
        if choice not in (None, ""):
            return self.by_choice(choice)
        for text in (item.craft, item.title, item.odop_product):
            for category in self.categories.values():
                if category.mentioned_in(text):
                    return category
        return None


@cache
def _word(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9]){re.escape(word)}", re.IGNORECASE)


def _mentions(text: str, word: str) -> bool:
    return bool(_word(word).search(text))


def load_categories() -> CategoryMap:
    return _load(adapter_data_file(__package__ or "adapters.alibaba", FILE).resolve())


@cache
def _load(path: Path) -> CategoryMap:
    with path.open("rb") as fh:
        return CategoryMap.from_toml(tomllib.load(fh))


__all__ = ["AttributeRule", "Category", "CategoryMap", "load_categories"]
