"""The catalog's input rules (DESIGN §4): raw rows and producers turned into canonical
`ItemIn` / `ProducerIn` values, or every problem of the row at once as `{row, field, message}`,
worded so an operator knows what to change in the sheet.

Batches, the variant PATCH and the CLI all validate through here; the cell readers live in
`odop_sync.catalog.cells`.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from odop_sync.catalog import b2b, cells
from odop_sync.catalog.b2b_cells import given, read_terms
from odop_sync.catalog.cells import RowReader
from odop_sync.catalog.districts import DistrictIndex, district_index
from odop_sync.catalog.identifiers import validate_gstin, validate_pehchan, validate_udyam
from odop_sync.catalog.items import ItemIn, ProducerIn
from odop_sync.config import Settings, config_file
from odop_sync.kit.money import paise_to_rupees
from odop_sync.kit.problems import FieldIssue
from odop_sync.models import ProducerKind

__all__ = [
    "ITEM_COLUMNS",
    "PRODUCT_COLUMNS",
    "ItemIn",
    "ProducerIn",
    "Rules",
    "b2b_warnings",
    "gst_rates_in_force",
    "india_today",
    "product_fields",
    "validate_item",
    "validate_producer",
]

SKU_RE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
REF_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
IST = timezone(timedelta(hours=5, minutes=30))  # GST slabs change at midnight in India
MAX_WEIGHT_G = Decimal(10_000_000)  # 10 tonnes; the column is NUMERIC(12, 2)
MAX_LENGTH_CM = Decimal(100_000)  # 1 km; the columns are NUMERIC(10, 2)
PHONE_RE = re.compile(r"^\+?[0-9][0-9 -]{6,18}[0-9]$")

# Keys are folded by `_kind_key`: lower case, letters and digits only ("Self-Help Group (SHG)"
# -> "selfhelpgroupshg").
PRODUCER_KIND_SYNONYMS = {
    "artisan": ProducerKind.ARTISAN,
    "individualartisan": ProducerKind.ARTISAN,
    "individual": ProducerKind.ARTISAN,
    "weaver": ProducerKind.ARTISAN,
    "craftsperson": ProducerKind.ARTISAN,
    "craftsman": ProducerKind.ARTISAN,
    "craftswoman": ProducerKind.ARTISAN,
    "karigar": ProducerKind.ARTISAN,
    "selfhelpgroup": ProducerKind.SELF_HELP_GROUP,
    "selfhelpgroupshg": ProducerKind.SELF_HELP_GROUP,
    "shg": ProducerKind.SELF_HELP_GROUP,
    "womensshg": ProducerKind.SELF_HELP_GROUP,
    "khadiunit": ProducerKind.KHADI_UNIT,
    "khadi": ProducerKind.KHADI_UNIT,
    "khadiinstitution": ProducerKind.KHADI_UNIT,
    "kviunit": ProducerKind.KHADI_UNIT,
    "cooperative": ProducerKind.COOPERATIVE,
    "cooperativesociety": ProducerKind.COOPERATIVE,
    "coop": ProducerKind.COOPERATIVE,
    "exporter": ProducerKind.EXPORTER,
    "exporthouse": ProducerKind.EXPORTER,
    "merchantexporter": ProducerKind.EXPORTER,
}


def _kind_key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


@dataclass(frozen=True)
class Rules:
    """What validation checks against: the GST rates in force, the districts, the image limit
    and whether private image hosts are allowed (development and demo sandboxes only)."""

    gst_rates: frozenset[Decimal]
    districts: DistrictIndex
    max_images: int = 10
    allow_private_image_hosts: bool = False
    # Cell text -> district code (None: unknown), filled as rows are read; a batch names the same
    # few districts thousands of times.
    _district_codes: dict[str, str | None] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        # Cached per day as well, so a long-running worker picks up a new GST slab at midnight.
        return _rules(
            settings.limits.max_images_per_item,
            settings.allow_private_image_hosts,
            india_today(),
        )


@functools.cache
def _rules(max_images: int, allow_private: bool, day: date) -> Rules:
    return Rules(
        gst_rates=gst_rates_in_force(day),
        districts=district_index(),
        max_images=max_images,
        allow_private_image_hosts=allow_private,
    )


def india_today() -> date:
    return datetime.now(IST).date()


def gst_rates_in_force(day: date) -> frozenset[Decimal]:
    """The GST rates (percent) of the slab set in force on `day`, from config/gst.toml."""
    with config_file("gst.toml").open("rb") as fh:
        slabs = tomllib.load(fh)["slabs"]
    for slab in slabs:
        start = date.fromisoformat(slab["from"])
        until = date.fromisoformat(slab["until"]) if "until" in slab else date.max
        if start <= day <= until:
            return frozenset(Decimal(r) for r in slab["rates"])
    raise ValueError(f"no GST slab in force on {day}")


# product (one product_ref) carries them, and the product keeps one value of each.
PRODUCT_COLUMNS = (
    "producer_ref",
    "title_en",
    "title_hi",
    "description_en",
    "description_hi",
    "district",
    "craft",
    "odop_product",
    "gi_tag",
    "hsn_code",
    "gst_rate",
    *b2b.B2B_COLUMNS,
)
# Every column (JSON field) an item row may carry, in the order of the contract (README,
# "Publishing products"), as `validate_item` reads them; a sheet may add `attr.<name>` columns.
ITEM_COLUMNS = (
    "sku",
    "product_ref",
    *PRODUCT_COLUMNS[: PRODUCT_COLUMNS.index("gst_rate") + 1],
    "mrp",
    "price",
    "stock",
    "weight_g",
    "length_cm",
    "width_cm",
    "height_cm",
    "material",
    "color",
    "size",
    "images",
    "attributes",
    *b2b.B2B_COLUMNS,
)


def _product_fields(r: RowReader, rules: Rules) -> dict[str, Any]:
    """The product columns of a row, canonical (the district as its code, the GST rate as a
    Decimal, the B2B columns as one `WholesaleTerms` under "b2b"); None for an empty or invalid
    cell, whose issue `r` records."""
    hsn = cells.hsn_code(r)
    return {
        "producer_ref": r.text("producer_ref", required=True, max_len=64, label="producer's ref"),
        "title_en": r.text("title_en", required=True, max_len=200, label="English title"),
        "title_hi": r.hindi("title_hi", 200),
        "description_en": r.text("description_en", max_len=2000),
        "description_hi": r.hindi("description_hi", 2000),
        "district": r.district(rules.districts, rules._district_codes),
        "craft": r.text("craft", max_len=120),
        "odop_product": r.text("odop_product", max_len=200),
        "gi_tag": r.text("gi_tag", max_len=200),
        "hsn_code": hsn,
        "gst_rate": cells.gst_rate(r, rules.gst_rates),
        "b2b": read_terms(r, hsn),
    }


def product_fields(raw: Mapping[str, Any], rules: Rules) -> dict[str, Any] | None:
    """A row's product key (product_ref, else its SKU) and product columns as the catalog would
    store them; None when the row is not an object or one of them is invalid (it is rejected)."""
    if not isinstance(raw, Mapping):
        return None
    r = RowReader(raw, None)
    sku = r.pattern("sku", SKU_RE, "", required=True, max_len=40)
    ref = r.pattern("product_ref", REF_RE, "", max_len=64)
    fields = _product_fields(r, rules)
    if r.issues:
        return None
    fields.update(b2b.columns_of(fields.pop("b2b")))
    return {"product_ref": ref or sku, **fields}


def validate_item(raw: Mapping[str, Any], row: int, rules: Rules) -> ItemIn | list[FieldIssue]:
    if not isinstance(raw, Mapping):
        return [FieldIssue(row=row, field=None, message="each item must be an object of fields")]
    r = RowReader(raw, row)
    sku = r.pattern(
        "sku", SKU_RE, "use 1-40 letters, digits, '.', '_' or '-'", required=True, max_len=40
    )
    product_ref = r.pattern(
        "product_ref", REF_RE, "use 1-64 letters, digits, '.', '_' or '-'", max_len=64
    )
    product = _product_fields(r, rules)
    producer_ref, title_en = product["producer_ref"], product["title_en"]
    hsn_code, gst_rate = product["hsn_code"], product["gst_rate"]
    mrp = r.money("mrp")
    price = r.money("price")
    if mrp is not None and mrp == 0:
        r.fail("mrp", "must be more than 0")
    if price is not None and price == 0:
        r.fail("price", "must be more than 0")
    if mrp and price and price > mrp:
        r.fail("price", f"₹{paise_to_rupees(price)} is above the MRP ₹{paise_to_rupees(mrp)}")
    stock = cells.stock(r)
    dims = {"weight_g": r.measure("weight_g", "grams", MAX_WEIGHT_G)}
    for name in ("length_cm", "width_cm", "height_cm"):
        dims[name] = r.measure(name, "cm", MAX_LENGTH_CM)
    material = r.text("material", max_len=120)
    color = r.text("color", max_len=60)
    size = r.text("size", max_len=60)
    images = cells.images(r, rules.max_images, rules.allow_private_image_hosts)
    attributes = cells.attributes(r)
    if r.issues:
        return r.issues
    # No issue means every required field was read; the checks narrow the types for mypy.
    if (
        sku is None
        or producer_ref is None
        or title_en is None
        or hsn_code is None
        or gst_rate is None
        or mrp is None
        or price is None
        or stock is None
    ):
        raise AssertionError("a required field is missing but no issue was recorded")
    return ItemIn(
        row=row,
        sku=sku,
        product_ref=product_ref or sku,
        producer_ref=producer_ref,
        title_en=title_en,
        title_hi=product["title_hi"],
        description_en=product["description_en"],
        description_hi=product["description_hi"],
        district_code=product["district"],
        craft=product["craft"],
        odop_product=product["odop_product"],
        gi_tag=product["gi_tag"],
        hsn_code=hsn_code,
        gst_rate=gst_rate,
        mrp_paise=mrp,
        price_paise=price,
        stock=stock,
        material=material,
        color=color,
        size=size,
        images=images,
        attributes=attributes,
        b2b=product["b2b"],
        **dims,
    )


def b2b_warnings(
    rows: Sequence[tuple[int, Any]], rules: Rules, skip: Container[int] = ()
) -> dict[int, list[FieldIssue]]:
    """Row number -> what its B2B terms allow but probably do not mean (a larger order that
    costs more per unit); only for rows that are valid otherwise (others are rejected)."""
    out: dict[int, list[FieldIssue]] = {}
    for row_no, data in rows:
        if row_no in skip or not isinstance(data, Mapping):
            continue
        if not (given(data.get("b2b_price_tiers")) or given(data.get("b2b_lead_times"))):
            continue
        item = validate_item(data, row_no, rules)
        if isinstance(item, ItemIn) and item.b2b is not None:
            found = item.b2b.warnings(row_no)
            if found:
                out[row_no] = found
    return out


def validate_producer(
    raw: Mapping[str, Any], index: int, rules: Rules
) -> ProducerIn | list[FieldIssue]:
    if not isinstance(raw, Mapping):
        return [FieldIssue(field=f"producers[{index}]", message="each producer must be an object")]
    r = RowReader(raw, None, prefix=f"producers[{index}].")
    ref = r.pattern(
        "ref", REF_RE, "use 1-64 letters, digits, '.', '_' or '-'", required=True, max_len=64
    )
    kind_text = r.text("kind", required=True, max_len=40, label="kind of producer")
    kind = None
    if kind_text is not None:
        kind = PRODUCER_KIND_SYNONYMS.get(_kind_key(kind_text))
        if kind is None:
            r.fail("kind", "must be one of " + ", ".join(k.value for k in ProducerKind))
    name_en = r.text("name_en", required=True, max_len=200, label="English name")
    name_hi = r.hindi("name_hi", 200)
    district_code = r.district(rules.districts)
    craft = r.text("craft", max_len=120)
    pehchan = r.checked("pehchan_card", validate_pehchan)
    udyam = r.checked("udyam_number", validate_udyam)
    gstin = r.checked("gstin", validate_gstin)
    phone = r.pattern("phone", PHONE_RE, "must be a phone number, like +91 94150 12345", max_len=20)
    if r.issues:
        return r.issues
    if ref is None or kind is None or name_en is None:
        raise AssertionError("a required field is missing but no issue was recorded")
    return ProducerIn(
        ref=ref,
        kind=kind,
        name_en=name_en,
        name_hi=name_hi,
        district_code=district_code,
        craft=craft,
        pehchan_card=pehchan,
        udyam_number=udyam,
        gstin=gstin,
        phone=phone,
    )
