"""Adapters import odop_sync.adapter_sdk and nothing else from the service (DESIGN §2)."""

from __future__ import annotations

from pathlib import Path

from tests.imports import offending_imports

ADAPTERS = Path(__file__).resolve().parents[2] / "adapters"
ALLOWED = "odop_sync.adapter_sdk"


def _allowed(name: str) -> bool:
    if name != "odop_sync" and not name.startswith("odop_sync."):
        return True
    return name == ALLOWED or name.startswith(ALLOWED + ".")


def forbidden_imports(source: str, label: str) -> list[str]:
    return offending_imports(source, label, lambda name: not _allowed(name))


class TestImportBoundary:
    def test_adapters_import_only_the_adapter_sdk_from_odop_sync(self) -> None:
        files = sorted(ADAPTERS.rglob("*.py"))
        assert len(files) > 1, "no adapter sources found"
        problems = [
            p
            for f in files
            for p in forbidden_imports(f.read_text(encoding="utf-8"), str(f.relative_to(ADAPTERS)))
        ]
        assert problems == []

    def test_the_check_catches_every_form_of_forbidden_import(self) -> None:
        source = (
            "from odop_sync.models import Listing\n"
            "import odop_sync.db\n"
            "from odop_sync import adapter_sdk, config\n"
            "from odop_sync.adapter_sdk.sandbox import StateStore\n"
            "def f():\n    import odop_sync.sync.engine\n"
        )
        found = forbidden_imports(source, "probe.py")
        assert [f.rsplit(" ", 1)[1] for f in found] == [
            "odop_sync.models",
            "odop_sync.db",
            "odop_sync.config",
            "odop_sync.sync.engine",
        ]
