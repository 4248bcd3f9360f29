"""Adapter discovery through the `odop_sync.adapters` entry-point group.

A broken adapter (import error, not an Adapter subclass, missing metadata) is reported with its
reason and skipped; discovery itself never fails."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points

from pydantic import BaseModel

from odop_sync.adapter_sdk._base import Adapter, OperationLimit
from odop_sync.adapter_sdk._capabilities import Capability

__all__ = ["ENTRY_POINT_GROUP", "AdapterRegistry", "discover_adapters", "validate_adapter_class"]

log = logging.getLogger("odop_sync.adapter_sdk.registry")

ENTRY_POINT_GROUP = "odop_sync.adapters"


def validate_adapter_class(obj: object) -> list[str]:
    """Everything wrong with `obj` as an adapter class; empty when it is fine."""
    if not (inspect.isclass(obj) and issubclass(obj, Adapter)):
        return [f"{obj!r} is not a subclass of odop_sync.adapter_sdk.Adapter"]
    problems: list[str] = []
    if inspect.isabstract(obj):
        missing = ", ".join(sorted(getattr(obj, "__abstractmethods__", ())))
        problems.append(f"abstract methods not implemented: {missing}")
    slug = getattr(obj, "slug", None)
    if not isinstance(slug, str) or not slug.isidentifier() or slug != slug.lower():
        problems.append("slug must be a lower-case identifier")
    if not isinstance(getattr(obj, "display_name", None), str):
        problems.append("display_name missing")
    caps = getattr(obj, "capabilities", None)
    if not isinstance(caps, frozenset) or not all(isinstance(c, Capability) for c in caps):
        problems.append("capabilities must be a frozenset of Capability")
    model = getattr(obj, "config_model", None)
    if not (inspect.isclass(model) and issubclass(model, BaseModel)):
        problems.append("config_model must be a pydantic model class")
    limits = getattr(obj, "limits", None)
    if not isinstance(limits, Mapping) or not all(
        isinstance(v, OperationLimit) for v in limits.values()
    ):
        problems.append("limits must map operation names to OperationLimit")
    elif isinstance(caps, frozenset):
        for cap, op in getattr(obj, "operations", {}).items():
            if op not in limits:
                problems.append(f"operation {op!r} for {cap} has no entry in limits")
    return problems


class AdapterRegistry:
    def __init__(self) -> None:
        self.adapters: dict[str, type[Adapter]] = {}
        self.broken: dict[str, str] = {}

    def register(self, cls: type[Adapter], *, name: str | None = None) -> type[Adapter]:
        """Add an adapter class (usable as a decorator); an invalid one lands in `broken`."""
        label = str(name or getattr(cls, "slug", None) or getattr(cls, "__name__", repr(cls)))
        problems = validate_adapter_class(cls)
        if problems:
            self.broken[label] = "; ".join(problems)
            log.warning("adapter %s is broken: %s", label, self.broken[label])
            return cls
        if cls.slug in self.adapters and self.adapters[cls.slug] is not cls:
            self.broken[label] = f"slug {cls.slug!r} already registered"
            log.warning("adapter %s is broken: %s", label, self.broken[label])
            return cls
        self.adapters[cls.slug] = cls
        return cls

    def load_entry_points(self, eps: Iterable[EntryPoint] | None = None) -> None:
        for ep in eps if eps is not None else entry_points(group=ENTRY_POINT_GROUP):
            try:
                obj = ep.load()
            except Exception as exc:  # any import-time failure is the adapter's, not ours
                self.broken[ep.name] = f"import failed: {type(exc).__name__}: {exc}"
                log.warning("adapter %s is broken: %s", ep.name, self.broken[ep.name])
                continue
            problems = validate_adapter_class(obj)
            if problems:
                self.broken[ep.name] = "; ".join(problems)
                log.warning("adapter %s is broken: %s", ep.name, self.broken[ep.name])
                continue
            if ep.name != obj.slug:
                log.info("entry point %s loads adapter slug %s", ep.name, obj.slug)
            self.register(obj, name=ep.name)

    def get(self, slug: str) -> type[Adapter]:
        return self.adapters[slug]


def discover_adapters(
    eps: Iterable[EntryPoint] | None = None,
) -> tuple[dict[str, type[Adapter]], dict[str, str]]:
    """`(adapters by slug, broken by entry-point name with the reason)`."""
    registry = AdapterRegistry()
    registry.load_entry_points(eps)
    return registry.adapters, registry.broken
