"""The catalog is the lower domain: batches build on it, it never imports batches (issue 12).

The canonical `ItemIn` / `ProducerIn` and their rules live in `odop_sync.catalog`; an import of
`odop_sync.batches` from the catalog is the upward arrow this test keeps out.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import odop_sync.catalog
from tests.imports import offending_imports

CATALOG = Path(odop_sync.catalog.__file__).resolve().parent
FORBIDDEN = "odop_sync.batches"


def upward_imports(source: str, label: str) -> list[str]:
    return offending_imports(
        source, label, lambda name: name == FORBIDDEN or name.startswith(FORBIDDEN + ".")
    )


class TestCatalogImportsNothingFromBatches:
    def test_no_catalog_module_imports_batches(self) -> None:
        files = sorted(CATALOG.rglob("*.py"))
        assert len(files) > 5, "no catalog sources found"
        problems = [
            p
            for f in files
            for p in upward_imports(f.read_text(encoding="utf-8"), str(f.relative_to(CATALOG)))
        ]
        assert problems == []

    def test_importing_the_catalog_loads_no_batches_module(self) -> None:
        # Transitively too: nothing the catalog's service, rules and models pull in reaches
        # batches. (The endpoints import the shared API dependencies, which are not catalog's.)
        probe = (
            "import sys\n"
            "import odop_sync.catalog.items, odop_sync.catalog.rules\n"
            "import odop_sync.catalog.service, odop_sync.catalog.repository\n"
            "print(sorted(m for m in sys.modules if m.startswith('odop_sync.batches')))\n"
        )
        out = subprocess.run(  # noqa: S603 - our own interpreter, a fixed probe
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
        )
        assert out.stdout.strip() == "[]"

    def test_the_check_catches_every_form_of_the_upward_import(self) -> None:
        source = (
            "from odop_sync.batches.validation import ItemIn\n"
            "import odop_sync.batches.service\n"
            "from odop_sync import batches, config\n"
            "from odop_sync.catalog.items import ItemIn\n"
            "def f():\n    import odop_sync.batches\n"
        )
        found = upward_imports(source, "probe.py")
        assert [f.rsplit(" ", 1)[1] for f in found] == [
            "odop_sync.batches.validation",
            "odop_sync.batches.service",
            "odop_sync.batches",
            "odop_sync.batches",
        ]
