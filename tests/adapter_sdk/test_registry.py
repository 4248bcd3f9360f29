from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint
from typing import ClassVar

from pydantic import BaseModel, SecretStr

from odop_sync.adapter_sdk import (
    Adapter,
    AdapterRegistry,
    Capability,
    OperationLimit,
    discover_adapters,
)

GROUP = "odop_sync.adapters"


class _Config(BaseModel):
    token: SecretStr


class GoodAdapter(Adapter):
    slug: ClassVar[str] = "good"
    display_name: ClassVar[str] = "Good"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.CHECK_CONNECTION})
    config_model: ClassVar[type[BaseModel]] = _Config
    limits: ClassVar[Mapping[str, OperationLimit]] = {"ping": OperationLimit(rate=1, burst=1)}
    operations: ClassVar[Mapping[Capability, str]] = {Capability.CHECK_CONNECTION: "ping"}

    async def check_connection(self) -> None:
        return None


class NoLimitsAdapter(GoodAdapter):
    slug: ClassVar[str] = "nolimits"
    limits = None  # type: ignore[assignment]


def ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=GROUP)


class TestRegistry:
    def test_a_valid_adapter_is_found_by_its_slug(self) -> None:
        adapters, broken = discover_adapters([ep("good", f"{__name__}:GoodAdapter")])
        assert adapters == {"good": GoodAdapter}
        assert broken == {}

    def test_broken_adapters_are_reported_with_their_reason_not_raised(self) -> None:
        adapters, broken = discover_adapters(
            [
                ep("good", f"{__name__}:GoodAdapter"),
                ep("missing", "odop_sync_no_such_module:Adapter"),
                ep("notadapter", "builtins:dict"),
                ep("nolimits", f"{__name__}:NoLimitsAdapter"),
            ]
        )
        assert list(adapters) == ["good"]
        assert broken["missing"].startswith("import failed: ModuleNotFoundError")
        assert "not a subclass" in broken["notadapter"]
        assert "limits" in broken["nolimits"]

    def test_the_amazon_adapter_passes_validation(self) -> None:
        adapters, broken = discover_adapters(
            [ep("amazon", "adapters.amazon.adapter:AmazonAdapter")]
        )
        assert broken == {}
        assert adapters["amazon"].display_name == "Amazon.in"

    def test_explicit_registration_for_tests(self) -> None:
        registry = AdapterRegistry()
        registry.register(GoodAdapter)
        registry.register(NoLimitsAdapter)
        assert registry.get("good") is GoodAdapter
        assert "nolimits" in registry.broken

    def test_discovery_reads_the_installed_entry_point_group(self) -> None:
        adapters, broken = discover_adapters()
        assert isinstance(adapters, dict)
        assert isinstance(broken, dict)
