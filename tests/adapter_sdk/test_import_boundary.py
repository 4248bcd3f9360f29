"""Adapters import odop_sync.adapter_sdk and nothing else from the service (DESIGN §2)."""

from __future__ import annotations

import ast
from pathlib import Path

ADAPTERS = Path(__file__).resolve().parents[2] / "adapters"
ALLOWED = "odop_sync.adapter_sdk"


def _allowed(name: str) -> bool:
    if name != "odop_sync" and not name.startswith("odop_sync."):
        return True
    return name == ALLOWED or name.startswith(ALLOWED + ".")


def forbidden_imports(source: str, label: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename=label)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "odop_sync":  # `from odop_sync import adapter_sdk` is fine
                names = [f"odop_sync.{alias.name}" for alias in node.names]
        found += [
            f"{label}:{getattr(node, 'lineno', 0)} imports {n}" for n in names if not _allowed(n)
        ]
    return found


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
