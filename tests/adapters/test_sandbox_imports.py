"""A sandbox judges its adapter, so none of its modules imports the adapter's own rules: the
Amazon sandbox not the product type map (or the adapter), the Flipkart and Alibaba.com sandboxes
not the adapter, its auth (signing), its wire models or its mapping tables."""

from __future__ import annotations

import ast
from importlib import resources

import pytest

JUDGED = {
    "adapters.alibaba": {
        "adapters.alibaba.adapter",
        "adapters.alibaba.auth",
        "adapters.alibaba.categories",
        "adapters.alibaba.gop",
        "adapters.alibaba.mapping",
        "adapters.alibaba.orders",
        "adapters.alibaba.photos",
        "adapters.alibaba.products",
        "adapters.alibaba.schema",
        "adapters.alibaba.wire",
    },
    "adapters.amazon": {
        "adapters.amazon.adapter",
        "adapters.amazon.mapping",
        "adapters.amazon.product_types",
        "adapters.amazon.wire",
    },
    "adapters.flipkart": {
        "adapters.flipkart.adapter",
        "adapters.flipkart.auth",
        "adapters.flipkart.mapping",
        "adapters.flipkart.wire",
    },
}


def _imports(source: str, package: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith(package)}


@pytest.mark.parametrize("package", sorted(JUDGED))
def test_no_sandbox_module_imports_the_adapters_rules(package: str) -> None:
    modules = [f for f in resources.files(package).iterdir() if f.name.startswith("sandbox")]
    assert modules
    for module in modules:
        if module.name.endswith(".py"):
            used = _imports(module.read_text("utf-8"), package)
            assert not used & JUDGED[package], module.name
