"""What a Python source imports, for the import-boundary tests (the layering DESIGN and issue 12
ask for)."""

from __future__ import annotations

import ast
from collections.abc import Callable


def imported_modules(source: str, label: str) -> list[tuple[int, str]]:
    """(line, module) for every absolute import in `source`, at any depth;
    `from odop_sync import x` counts as importing `odop_sync.x`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename=label)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "odop_sync":
                found += [(node.lineno, f"odop_sync.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def offending_imports(source: str, label: str, forbidden: Callable[[str], bool]) -> list[str]:
    """`label:line imports module` for each import `forbidden` refuses."""
    return [
        f"{label}:{line} imports {name}"
        for line, name in imported_modules(source, label)
        if forbidden(name)
    ]
