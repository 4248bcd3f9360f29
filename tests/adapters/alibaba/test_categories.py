"""The craft → Alibaba.com category map (categories.toml): the demo catalog's crafts land in
the categories the contract note names, and an operator's copy wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from adapters.alibaba.categories import load_categories

from adapters.alibaba import categories as categories_module
from tests.adapters.alibaba.conftest import carpet


@pytest.mark.parametrize(
    ("craft", "title", "odop", "cat_id"),
    [
        ("Hand-knotted carpet", "Bhadohi wool carpet", "Carpet (Dari)", 100001101),
        ("Handwoven durrie", "Mirzapur cotton durrie", "Carpet", 100001102),
        ("Chikankari", "Lucknow chikankari kurta", "Chikankari & Zari-Zardozi", 100002201),
        ("Brassware", "Moradabad brass vase", "Metal Craft", 100003301),
        ("Wooden lacquerware toys", "Varanasi lattu", "Wooden Toys", 100003302),
        ("Terracotta", "Gorakhpur terracotta horse", "Terracotta", 100003303),
        ("Leather goods", "Kanpur laptop bag", "Leather Products", 100004401),
        ("Khadi", "Barabanki khadi fabric", "Handloom Products", 100005501),
    ],
)
def test_the_demo_crafts_find_their_category(
    craft: str, title: str, odop: str, cat_id: int
) -> None:
    item = carpet(craft=craft, title=title, odop_product=odop)
    chosen = load_categories().choose(item)
    assert chosen is not None
    assert chosen.cat_id == cat_id


def test_a_craft_the_map_does_not_know_has_no_category() -> None:
    item = carpet(craft="Glassware", title="Firozabad glass vase", odop_product="Glassware")
    assert load_categories().choose(item) is None


def test_a_product_may_name_its_category() -> None:
    item = carpet(craft="Glassware", title="Firozabad glass vase", odop_product="Glassware")
    assert load_categories().choose(item, "terracotta").cat_id == 100003303  # type: ignore[union-attr]
    assert load_categories().choose(item, 123456).cat_id == 123456  # type: ignore[union-attr]


def test_an_operators_copy_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own = tmp_path / "alibaba"
    own.mkdir()
    (own / "categories.toml").write_text(
        '[categories.glass]\ncat_id = 777\nname = "Glass Crafts"\nwords = ["glass"]\n'
    )
    monkeypatch.setenv("ODOP_CONFIG_DIR", str(tmp_path))
    categories_module._load.cache_clear()
    item = carpet(craft="Glassware", title="Firozabad glass vase", odop_product="Glassware")
    chosen = load_categories().choose(item)
    assert chosen is not None
    assert chosen.cat_id == 777
