"""The demo seed (src/odop_sync/demo/catalog.json) as a user of `odop-sync demo` sees it."""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from defusedxml.ElementTree import parse as parse_xml

import odop_sync.demo
from odop_sync.config import config_file
from odop_sync.models import ProducerKind

DEMO_DIR = Path(odop_sync.demo.__file__).resolve().parent
ROOT = Path(__file__).resolve().parents[2]
SKU_RE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
DEVANAGARI_RE = re.compile(r"[\u0900-\u097F]")
GSTIN_RE = re.compile(r"^(\d{2})([A-Z]{3}[PFCATHBLJG][A-Z]\d{4}[A-Z])([1-9A-Z])Z([0-9A-Z])$")
UDYAM_RE = re.compile(r"^UDYAM-[A-Z]{2}-\d{2}-\d{7}$")
GST_STATE = {"Uttar Pradesh": "09", "Rajasthan": "08"}
GST_RATES = {Decimal(r) for r in ("0", "0.25", "3", "5", "18", "40")}
PRODUCT_FIELDS = (
    "producer_ref", "title_en", "title_hi", "description_en", "description_hi", "district",
    "craft", "odop_product", "gi_tag", "hsn_code", "gst_rate",
    "b2b_moq", "b2b_moq_unit", "b2b_price_tiers", "b2b_supply_per_month", "b2b_lead_times",
    "b2b_port_of_loading", "b2b_payment_terms", "export_hs_code",
)  # fmt: skip
_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def gstin_check_char(first14: str) -> str:
    """GSTIN check character: mod 36 over the first 14 characters, weights 1, 2, 1, 2, ..."""
    total = 0
    for i, ch in enumerate(first14):
        product = _B36.index(ch) * (2 if i % 2 else 1)
        total += product // 36 + product % 36
    return _B36[-total % 36]


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return json.loads((DEMO_DIR / "catalog.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def district_states() -> dict[str, str]:
    with config_file("districts.toml").open("rb") as fh:
        districts = tomllib.load(fh)["district"]
    return {d["name"]: d["state"] for d in districts}


def test_agency_is_the_up_odop_cell(catalog: dict[str, Any]) -> None:
    assert catalog["agency"] == {
        "slug": "up-odop",
        "name": "UP ODOP Cell (demo)",
        "state": "Uttar Pradesh",
    }


def test_size_of_the_catalog(catalog: dict[str, Any], district_states: dict[str, str]) -> None:
    items = catalog["items"]
    assert len(items) >= 48
    assert len({i["product_ref"] for i in items}) >= 40
    up = {i["district"] for i in items if district_states.get(i["district"]) == "Uttar Pradesh"}
    assert len(up) >= 12, sorted(up)


def test_flagship_odop_crafts_are_all_there(catalog: dict[str, Any]) -> None:
    districts = {i["district"] for i in catalog["items"]}
    for name in (
        "Bhadohi", "Lucknow", "Varanasi", "Agra", "Kanpur Nagar", "Gorakhpur", "Saharanpur",
        "Moradabad", "Firozabad", "Bahraich", "Kannauj", "Bulandshahr", "Azamgarh",
        "Mirzapur", "Pilibhit",
    ):  # fmt: skip
        assert name in districts, name
    crafts = " ".join(i["craft"].casefold() for i in catalog["items"])
    for craft in ("chikankari", "zardozi", "khadi", "terracotta", "attar", "carpet"):
        assert craft in crafts, craft
    khadi_units = {
        i["producer_ref"] for i in catalog["items"] if i["craft"].casefold().startswith("khadi")
    }
    assert len(khadi_units) >= 2


def test_every_producer_kind_appears_at_least_twice(catalog: dict[str, Any]) -> None:
    kinds = Counter(p["kind"] for p in catalog["producers"])
    assert len(catalog["producers"]) >= 14
    for kind in ProducerKind:
        assert kinds[kind.value] >= 2, kind
    assert set(kinds) <= {k.value for k in ProducerKind}


def test_producer_refs_are_unique_and_every_item_names_one(catalog: dict[str, Any]) -> None:
    refs = [p["ref"] for p in catalog["producers"]]
    assert len(refs) == len(set(refs))
    missing = {i["producer_ref"] for i in catalog["items"]} - set(refs)
    assert not missing
    unused = set(refs) - {i["producer_ref"] for i in catalog["items"]}
    assert not unused


def test_producer_names_and_ids(catalog: dict[str, Any]) -> None:
    for p in catalog["producers"]:
        assert DEVANAGARI_RE.search(p["name_hi"]), p["ref"]
        if p["kind"] == ProducerKind.ARTISAN.value:
            assert p.get("pehchan_card"), p["ref"]
        if p.get("udyam_number"):
            assert UDYAM_RE.match(p["udyam_number"]), p["ref"]


def test_skus_are_unique_and_use_the_allowed_characters(catalog: dict[str, Any]) -> None:
    skus = [i["sku"] for i in catalog["items"]]
    assert [s for s, n in Counter(skus).items() if n > 1] == []
    assert [s for s in skus if not SKU_RE.match(s)] == []


def test_prices_stock_and_tax(catalog: dict[str, Any]) -> None:
    for i in catalog["items"]:
        price, mrp = Decimal(str(i["price"])), Decimal(str(i["mrp"]))
        assert 0 < price <= mrp, i["sku"]
        assert isinstance(i["stock"], int), i["sku"]
        assert i["stock"] >= 0, i["sku"]
        assert Decimal(str(i["gst_rate"])) in GST_RATES, i["sku"]
        assert re.fullmatch(r"\d{4}|\d{6}|\d{8}", i["hsn_code"]), i["sku"]
        for dim in ("weight_g", "length_cm", "width_cm", "height_cm"):
            assert i[dim] > 0, (i["sku"], dim)
    stocks = [i["stock"] for i in catalog["items"]]
    assert 0 in stocks
    assert any(1 <= s <= 3 for s in stocks)
    assert any(p == m for p, m in ((i["price"], i["mrp"]) for i in catalog["items"]))


def test_hindi_text_is_devanagari_and_lengths_fit(catalog: dict[str, Any]) -> None:
    for i in catalog["items"]:
        assert DEVANAGARI_RE.search(i["title_hi"]), i["sku"]
        assert DEVANAGARI_RE.search(i["description_hi"]), i["sku"]
        assert len(i["title_en"]) <= 200
        assert len(i["title_hi"]) <= 200
        assert len(i["description_en"]) <= 2000
        assert len(i["description_hi"]) <= 2000


def test_variants_of_one_product_agree_on_product_fields(catalog: dict[str, Any]) -> None:
    seen: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
    for i in catalog["items"]:
        seen[i["product_ref"]].add(tuple(str(i.get(f)) for f in PRODUCT_FIELDS))
    assert [ref for ref, values in seen.items() if len(values) > 1] == []


SQ_M_PER_SQ_FT = Decimal("0.09290304")  # (0.3048 m)²
B2B_PRODUCTS = {  # the export crafts issue 13 names, and the unit each is sold by wholesale
    "BHD-CARPET-WOOL-100": "square_metre",
    "BHD-CARPET-SILKWOOL-150": "square_metre",
    "BHD-GABBEH-2X3": "piece",
    "MZP-DURRIE-PANJA": "square_metre",
    "MZP-DURRIE-RUNNER": "piece",
    "MBD-PUJA-THALI": "set",
    "MBD-GANESHA-IDOL": "piece",
    "MBD-ENGRAVED-VASE": "kilogram",
}


def _retail_per_unit(item: dict[str, Any], unit: str) -> Decimal:
    """The item's retail price per wholesale unit: per piece (or set), per kilogram of its
    weight, per square metre of its size in feet ("3 x 5 ft")."""
    price = Decimal(item["price"])
    if unit == "kilogram":
        return price / (Decimal(item["weight_g"]) / 1000)
    if unit == "square_metre":
        width, length = re.findall(r"\d+", item["size"])
        return price / (Decimal(width) * Decimal(length) * SQ_M_PER_SQ_FT)
    return price


def test_export_crafts_carry_wholesale_terms_below_retail(catalog: dict[str, Any]) -> None:
    """Carpets, durries and brassware are on Alibaba.com: B2B terms by a sensible unit, every
    tier cheaper per unit than the retail price, lead times of 30-60 days (Alibaba.com takes at
    most 60), an export port."""
    with_terms = {i["product_ref"] for i in catalog["items"] if i.get("b2b_moq")}
    assert with_terms == set(B2B_PRODUCTS)
    for item in catalog["items"]:
        unit = B2B_PRODUCTS.get(item["product_ref"])
        if unit is None:
            continue
        assert item["b2b_moq_unit"] == unit, item["sku"]
        assert 2 <= item["b2b_moq"] <= 25, item["sku"]
        prices = [Decimal(t.split(":")[1]) for t in item["b2b_price_tiers"].split("|")]
        assert prices == sorted(prices, reverse=True), item["sku"]
        assert max(prices) < _retail_per_unit(item, unit) * Decimal("0.85"), item["sku"]
        days = [int(t.split(":")[1]) for t in item["b2b_lead_times"].split("|")]
        assert all(30 <= d <= 60 for d in days), item["sku"]
        assert item["b2b_port_of_loading"] in ("Nhava Sheva (Mumbai)", "Mundra")
        assert item["b2b_payment_terms"] == "TT|LC"
        if item["craft"] == "Hand-knotted carpet":
            assert item["export_hs_code"] == "57011010"
            assert item["export_hs_code"] != item["hsn_code"]


def test_every_referenced_image_exists_and_is_small(catalog: dict[str, Any]) -> None:
    referenced: set[str] = set()
    for i in catalog["items"]:
        assert 1 <= len(i["images"]) <= 3, i["sku"]
        for path in i["images"]:
            assert path.startswith("demo/images/"), path
            assert path.endswith(".svg"), path
            referenced.add(path.removeprefix("demo/images/"))
    files = {p.name: p for p in (DEMO_DIR / "images").glob("*.svg")}
    assert referenced - set(files) == set()
    assert set(files) - referenced == set(), "image files no item uses"
    for p in files.values():
        assert p.stat().st_size < 2048, p.name
        assert parse_xml(p).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert sum(p.stat().st_size for p in files.values()) < 150 * 1024


def test_gstin_check_character_function_matches_a_published_example() -> None:
    assert gstin_check_char("27AAPFU0939F1Z") == "V"


def test_every_gstin_is_valid_for_the_producers_state(
    catalog: dict[str, Any], district_states: dict[str, str]
) -> None:
    gstins = [(p, p["gstin"]) for p in catalog["producers"] if p.get("gstin")]
    assert 0 < len(gstins) < len(catalog["producers"])
    for p, gstin in gstins:
        match = GSTIN_RE.match(gstin)
        assert match, gstin
        assert gstin[14] == gstin_check_char(gstin[:14]), gstin
        assert match.group(1) == GST_STATE[district_states[p["district"]]], gstin
        if p["kind"] == ProducerKind.ARTISAN.value:
            assert gstin[5] == "P", gstin  # an individual's PAN


def test_the_seed_passes_the_batch_validation_rules(catalog: dict[str, Any]) -> None:
    from odop_sync.catalog.districts import district_index
    from odop_sync.catalog.rules import (
        Rules,
        gst_rates_in_force,
        validate_item,
        validate_producer,
    )
    from odop_sync.demo.loader import load_demo_catalog

    rules = Rules(gst_rates=gst_rates_in_force(date.today()), districts=district_index())  # noqa: DTZ011
    data = load_demo_catalog("https://odop.example.org")
    problems = [
        r
        for n, p in enumerate(data["producers"])
        if isinstance(r := validate_producer(p, n, rules), list)
    ]
    problems += [
        q
        for n, i in enumerate(data["items"], 1)
        if isinstance(q := validate_item(i, n, rules), list)
    ]
    assert problems == []
