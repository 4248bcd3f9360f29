from __future__ import annotations

import json
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from odop_sync.catalog.districts import district_index
from odop_sync.catalog.rules import (
    ItemIn,
    ProducerIn,
    Rules,
    gst_rates_in_force,
    validate_item,
    validate_producer,
)
from odop_sync.config import LimitSettings, Settings
from odop_sync.kit.problems import FieldIssue
from odop_sync.models import ProducerKind

ROW = 7
CHIKAN_HI = "लखनवी चिकनकारी कुर्ता"
IMAGE = "https://img.example.org/chikan/kurta-1.jpg"
# Check character by hand (GSTN's mod-36 rule, see tests/catalog/test_identifiers.py): 223 mod
# 36 = 7, 36 − 7 = 29 = T.
GSTIN = "09AAPFU0939F1ZT"


@pytest.fixture(scope="module")
def rules() -> Rules:
    # A fixed day after the 22 Sep 2025 slab change keeps the tests independent of the calendar.
    return Rules(gst_rates=gst_rates_in_force(date(2025, 10, 1)), districts=district_index())


@pytest.fixture(scope="module")
def dev_rules(rules: Rules) -> Rules:
    return Rules(rules.gst_rates, rules.districts, allow_private_image_hosts=True)


def json_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "sku": "LKO-CHK-001-M",
        "product_ref": "LKO-CHK-001",
        "producer_ref": "shg-lko-01",
        "title_en": "Lucknowi chikankari kurta",
        "title_hi": CHIKAN_HI,
        "description_en": "Hand embroidered on cotton.",
        "district": "Lucknow",
        "craft": "Chikankari",
        "odop_product": "Chikankari",
        "gi_tag": "Lucknow Chikan Craft",
        "hsn_code": "62114290",
        "gst_rate": 5,
        "mrp": 1500,
        "price": 1250.5,
        "stock": 12,
        "weight_g": 250,
        "length_cm": 30,
        "width_cm": 25,
        "height_cm": 2.5,
        "material": "Cotton",
        "color": "White",
        "size": "M",
        "images": [IMAGE, "https://img.example.org/chikan/kurta-2.jpg"],
        "attributes": {"neck": "round"},
    }
    row.update(changes)
    return row


def sheet_row(**changes: Any) -> dict[str, Any]:
    """The same item as a CSV sheet gives it: every cell a string."""
    row = {
        k: (
            "|".join(v) if isinstance(v, list) else json.dumps(v) if isinstance(v, dict) else str(v)
        )
        for k, v in json_row().items()
    }
    row.update(changes)
    return row


def valid(raw: dict[str, Any], rules: Rules) -> ItemIn:
    result = validate_item(raw, ROW, rules)
    assert isinstance(result, ItemIn), result
    return result


def issues(raw: dict[str, Any], rules: Rules) -> list[FieldIssue]:
    result = validate_item(raw, ROW, rules)
    assert isinstance(result, list), result
    return result


def fields(found: list[FieldIssue]) -> set[str | None]:
    return {i.field for i in found}


class TestValidateItem:
    def test_a_valid_json_row_becomes_the_canonical_item(self, rules: Rules) -> None:
        item = valid(json_row(), rules)
        assert item.row == ROW
        assert item.sku == "LKO-CHK-001-M"
        assert item.district_code == "UP-lucknow"
        assert item.title_hi == CHIKAN_HI
        assert item.gst_rate == Decimal(5)
        assert (item.mrp_paise, item.price_paise, item.stock) == (150_000, 125_050, 12)
        assert item.height_cm == Decimal("2.50")
        assert item.images == (IMAGE, "https://img.example.org/chikan/kurta-2.jpg")
        assert item.attributes == {"neck": "round"}

    def test_a_sheet_row_of_strings_gives_the_same_item_as_json(self, rules: Rules) -> None:
        from_sheet, from_json = valid(sheet_row(), rules), valid(json_row(), rules)
        assert from_sheet == from_json
        assert from_sheet.content_hash() == from_json.content_hash()

    def test_product_ref_defaults_to_the_sku(self, rules: Rules) -> None:
        assert valid(json_row(product_ref=None), rules).product_ref == "LKO-CHK-001-M"

    def test_empty_strings_count_as_missing(self, rules: Rules) -> None:
        item = valid(json_row(title_hi="", craft="  ", weight_g="", attributes=""), rules)
        assert (item.title_hi, item.craft, item.weight_g, item.attributes) == (None, None, None, {})
        assert fields(issues(json_row(title_en=" "), rules)) == {"title_en"}

    def test_every_problem_of_a_row_is_reported_at_once(self, rules: Rules) -> None:
        found = issues(json_row(sku="bad sku", hsn_code="12", price=2000, images=[]), rules)
        assert fields(found) == {"sku", "hsn_code", "price", "images"}
        assert all(i.row == ROW for i in found)

    @pytest.mark.parametrize(
        ("field", "value", "says"),
        [
            ("sku", None, "required"),
            ("sku", "CHK 001", "letters, digits"),
            ("sku", "A" * 41, "at most 40"),
            ("product_ref", "LKO/CHK", "letters, digits"),
            ("producer_ref", None, "required"),
            ("producer_ref", "p" * 65, "at most 64"),
            ("title_en", None, "required"),
            ("title_en", "T" * 201, "at most 200"),
            ("title_hi", "Chikan kurta", "Devanagari"),
            ("title_hi", "१२३ ।", "Devanagari"),
            ("description_en", "d" * 2001, "at most 2000"),
            ("description_hi", "विवरण" * 401, "at most 2000"),
            ("district", "Lukhnow", "Lucknow"),
            ("hsn_code", None, "required"),
            ("hsn_code", "62114", "4, 6 or 8 digits"),
            ("hsn_code", "6211-42", "4, 6 or 8 digits"),
            ("gst_rate", None, "required"),
            ("gst_rate", "12", "not a GST rate in force"),
            ("gst_rate", "28%", "not a GST rate in force"),
            ("gst_rate", "five", "percentage"),
            ("mrp", None, "required"),
            ("mrp", "1,500.505", "2 decimal"),
            ("price", None, "required"),
            ("price", 0, "more than 0"),
            ("price", "-10", "negative"),
            ("price", 1500.01, "above the MRP"),
            ("stock", None, "required"),
            ("stock", "12.5", "whole number"),
            ("stock", -1, "0 or more"),
            ("stock", "twelve", "whole number"),
            ("weight_g", 0, "more than 0"),
            ("weight_g", "-5", "more than 0"),
            ("length_cm", "abc", "number"),
            ("width_cm", "0.005", "2 decimal"),
            ("height_cm", 10**9, "at most"),
            ("material", "m" * 121, "at most 120"),
            ("color", "c" * 61, "at most 60"),
            ("size", "s" * 61, "at most 60"),
            ("images", None, "required"),
            ("images", [], "required"),
            ("images", "http://img.example.org/a.jpg", "https"),
            ("images", "ftp://img.example.org/a.jpg", "https"),
            ("images", "https://localhost/a.jpg", "private"),
            ("images", "https://10.0.0.7/a.jpg", "private"),
            ("images", "https://192.168.1.20/a.jpg", "private"),
            ("images", "https://169.254.169.254/latest", "private"),
            ("images", "https://[::1]/a.jpg", "private"),
            ("images", "https://127.1/a.jpg", "private"),
            ("images", "https://printer.local/a.jpg", "private"),
            ("images", "https://user:pw@img.example.org/a.jpg", "password"),
            ("images", "https://img.example.org/my photo.jpg", "spaces"),
            ("images", [IMAGE] * 11, "at most 10"),
            ("attributes", "{not json", "JSON object"),
            ("attributes", "[1, 2]", "JSON object"),
            ("attributes", {"huge": 10**30}, "JSON values"),
        ],
    )
    def test_each_rule_rejects_naming_row_and_field(
        self, rules: Rules, field: str, value: Any, says: str
    ) -> None:
        found = issues(json_row(**{field: value}), rules)
        assert [(i.row, i.field) for i in found] == [(ROW, field)]
        assert says.lower() in found[0].message.lower(), found[0].message

    @pytest.mark.parametrize("value", ["5", "5%", " 5 % ", 5, 5.0, "5.00", Decimal("5")])
    def test_gst_rate_is_accepted_as_text_percent_or_number(self, rules: Rules, value: Any) -> None:
        assert valid(json_row(gst_rate=value), rules).gst_rate == Decimal(5)

    @pytest.mark.parametrize(("value", "rate"), [("0.25", "0.25"), (3, "3"), ("40%", "40")])
    def test_the_special_goods_and_new_slabs_are_accepted(
        self, rules: Rules, value: Any, rate: str
    ) -> None:
        assert valid(json_row(gst_rate=value), rules).gst_rate == Decimal(rate)

    @pytest.mark.parametrize("value", ["12", 12, 12.0, " 12 "])
    def test_stock_is_accepted_as_a_whole_number_in_any_form(
        self, rules: Rules, value: Any
    ) -> None:
        assert valid(json_row(stock=value), rules).stock == 12

    def test_money_is_kept_as_integer_paise(self, rules: Rules) -> None:
        item = valid(json_row(mrp="₹1,500", price="1,250.50"), rules)
        assert (item.mrp_paise, item.price_paise) == (150_000, 125_050)

    def test_a_price_equal_to_the_mrp_is_allowed(self, rules: Rules) -> None:
        assert valid(json_row(price=1500), rules).price_paise == 150_000

    @pytest.mark.parametrize(
        ("value", "code"),
        [
            ("62114290", "62114290"),
            (62114290, "62114290"),
            (62114290.0, "62114290"),
            ("09109100", "09109100"),
            (9109100, "09109100"),
            (6304, "6304"),
            ("6304 91", "630491"),
        ],
    )
    def test_hsn_codes_keep_their_digits_from_text_or_number_cells(
        self, rules: Rules, value: Any, code: str
    ) -> None:
        assert valid(json_row(hsn_code=value), rules).hsn_code == code

    @pytest.mark.parametrize(
        ("value", "code"),
        [
            ("Bhadohi", "UP-bhadohi"),
            ("sant ravidas nagar", "UP-bhadohi"),
            ("भदोही", "UP-bhadohi"),
            ("ALLAHABAD", "UP-prayagraj"),
            ("Faizabad", "UP-ayodhya"),
            ("Sanganer", "RJ-jaipur"),
        ],
    )
    def test_district_names_aliases_and_hindi_become_the_canonical_code(
        self, rules: Rules, value: str, code: str
    ) -> None:
        assert valid(json_row(district=value), rules).district_code == code

    def test_hindi_text_is_stored_nfc_normalised(self, rules: Rules) -> None:
        composed = "\u0915\u093c\u0932\u092e"  # क़लम, as NFC spells it
        precomposed = "\u0958\u0932\u092e"  # the same word with U+0958, as some keyboards type it
        item = valid(json_row(title_hi=precomposed), rules)
        assert item.title_hi == composed == unicodedata.normalize("NFC", precomposed)

    def test_images_come_as_a_list_or_separated_by_bars(self, rules: Rules) -> None:
        item = valid(json_row(images=f" {IMAGE} | https://img.example.org/b.jpg |"), rules)
        assert item.images == (IMAGE, "https://img.example.org/b.jpg")

    def test_development_rules_allow_http_and_loopback_image_hosts(
        self, rules: Rules, dev_rules: Rules
    ) -> None:
        local = json_row(images=["http://127.0.0.1:8000/sandbox/img/a.jpg", "http://localhost/b"])
        assert fields(issues(local, rules)) == {"images"}
        assert valid(local, dev_rules).images[0].startswith("http://127.0.0.1")

    def test_the_image_limit_comes_from_the_rules(self, rules: Rules) -> None:
        strict = Rules(rules.gst_rates, rules.districts, max_images=2)
        found = issues(json_row(images=[IMAGE] * 3), strict)
        assert "at most 2" in found[0].message

    def test_attribute_columns_are_merged_into_attributes(self, rules: Rules) -> None:
        raw = sheet_row(attributes='{"knots_per_sq_inch": 100}')
        raw.update({"attr.pile": "Wool", "attr:origin": "Bhadohi", "notes": "ignored"})
        item = valid(raw, rules)
        assert item.attributes == {"knots_per_sq_inch": 100, "pile": "Wool", "origin": "Bhadohi"}

    def test_unknown_columns_are_ignored(self, rules: Rules) -> None:
        assert valid(json_row(internal_note="x", colour_code=3), rules).sku == "LKO-CHK-001-M"

    def test_a_row_that_is_not_an_object_is_one_issue(self, rules: Rules) -> None:
        result = validate_item(["not", "an", "object"], ROW, rules)  # type: ignore[arg-type]
        assert isinstance(result, list)
        assert result[0].row == ROW

    def test_to_json_is_plain_json_with_rupees_and_paise(self, rules: Rules) -> None:
        data = valid(json_row(), rules).to_json()
        assert json.loads(json.dumps(data)) == data
        assert (data["mrp"], data["price"]) == ("1500.00", "1250.50")
        assert (data["mrp_paise"], data["price_paise"]) == (150_000, 125_050)
        assert (data["gst_rate"], data["height_cm"], data["weight_g"]) == ("5", "2.5", "250")
        assert "row" not in data


class TestContentHash:
    def test_it_is_a_sha256_hex_digest_that_is_the_same_on_every_run(self, rules: Rules) -> None:
        digest = valid(json_row(), rules).content_hash()
        assert len(digest) == 64
        assert int(digest, 16) >= 0
        # Pinned: stored variants compare against it, so a change makes every row "updated".
        # Change this only together with a deliberate change of the canonical form.
        assert digest == PINNED_HASH

    def test_it_ignores_stock_and_row(self, rules: Rules) -> None:
        a = valid(json_row(stock=12), rules)
        b = validate_item(json_row(stock=0), ROW + 10, rules)
        assert isinstance(b, ItemIn)
        assert a.content_hash() == b.content_hash()

    @pytest.mark.parametrize(
        "change",
        [
            {"price": 1200},
            {"title_en": "Lucknowi chikankari kurta, white"},
            {"images": ["https://img.example.org/chikan/kurta-2.jpg", IMAGE]},
            {"attributes": {"neck": "v"}},
            {"district": "Bhadohi"},
        ],
    )
    def test_it_changes_with_the_content(self, rules: Rules, change: dict[str, Any]) -> None:
        base = valid(json_row(), rules).content_hash()
        assert valid(json_row(**change), rules).content_hash() != base

    def test_attribute_key_order_does_not_matter(self, rules: Rules) -> None:
        a = valid(json_row(attributes={"a": 1, "b": {"y": 2, "x": 1}}), rules)
        b = valid(json_row(attributes={"b": {"x": 1, "y": 2}, "a": 1}), rules)
        assert a.content_hash() == b.content_hash()

    def test_equal_amounts_written_differently_hash_equal(self, rules: Rules) -> None:
        a = valid(json_row(price="1250.50", weight_g="250.0", gst_rate="5%"), rules)
        b = valid(json_row(price=1250.5, weight_g=250, gst_rate=5.0), rules)
        assert a.content_hash() == b.content_hash()


def producer(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "ref": "shg-lko-01",
        "kind": "self_help_group",
        "name_en": "Chikan Mahila SHG",
        "name_hi": "चिकन महिला स्वयं सहायता समूह",
        "district": "Lucknow",
        "craft": "Chikankari",
        "pehchan_card": "UP/LKO/2019/004512",
        "udyam_number": "udyam-up-43-0012345",
        "gstin": GSTIN.lower(),
        "phone": "+91 94150 12345",
    }
    raw.update(changes)
    return raw


class TestValidateProducer:
    def test_a_valid_producer_is_normalised(self, rules: Rules) -> None:
        result = validate_producer(producer(), 0, rules)
        assert isinstance(result, ProducerIn)
        assert result.kind is ProducerKind.SELF_HELP_GROUP
        assert result.district_code == "UP-lucknow"
        assert result.udyam_number == "UDYAM-UP-43-0012345"
        assert result.gstin == GSTIN
        assert result.to_json()["kind"] == "self_help_group"
        assert json.loads(json.dumps(result.to_json())) == result.to_json()

    @pytest.mark.parametrize(
        ("kind", "expected"),
        [
            ("SHG", ProducerKind.SELF_HELP_GROUP),
            ("Self-Help Group", ProducerKind.SELF_HELP_GROUP),
            ("self help group (SHG)", ProducerKind.SELF_HELP_GROUP),
            ("Weaver", ProducerKind.ARTISAN),
            ("Khadi Unit", ProducerKind.KHADI_UNIT),
            ("Co-operative", ProducerKind.COOPERATIVE),
            ("exporter", ProducerKind.EXPORTER),
        ],
    )
    def test_kind_synonyms_are_understood(
        self, rules: Rules, kind: str, expected: ProducerKind
    ) -> None:
        result = validate_producer(producer(kind=kind), 0, rules)
        assert isinstance(result, ProducerIn)
        assert result.kind is expected

    @pytest.mark.parametrize(
        ("field", "value", "says"),
        [
            ("ref", None, "required"),
            ("ref", "shg lko", "letters, digits"),
            ("kind", "company", "artisan, self_help_group"),
            ("name_en", "", "required"),
            ("name_hi", "Chikan SHG", "Devanagari"),
            ("district", "Lukhnow", "Lucknow"),
            ("gstin", GSTIN[:14] + ("A" if GSTIN[14] != "A" else "B"), "check character"),
            ("udyam_number", "UDYAM-UP-0012345", "UDYAM-UP-43-0012345"),
            ("pehchan_card", "12", "Pehchan"),
            ("phone", "call me", "phone number"),
        ],
    )
    def test_each_rule_rejects_naming_the_producer_and_field(
        self, rules: Rules, field: str, value: Any, says: str
    ) -> None:
        result = validate_producer(producer(**{field: value}), 3, rules)
        assert isinstance(result, list)
        assert [(i.row, i.field) for i in result] == [(None, f"producers[3].{field}")]
        assert says.lower() in result[0].message.lower(), result[0].message

    def test_optional_identifiers_may_be_left_out(self, rules: Rules) -> None:
        raw = producer(pehchan_card=None, udyam_number="", gstin=None, phone=None, name_hi=None)
        assert isinstance(validate_producer(raw, 0, rules), ProducerIn)


class TestRules:
    def test_from_settings_takes_the_image_limit_and_private_host_switch(self) -> None:
        settings = Settings(
            limits=LimitSettings(max_images_per_item=3), allow_private_image_hosts=True
        )
        rules = Rules.from_settings(settings)
        assert (rules.max_images, rules.allow_private_image_hosts) == (3, True)
        assert Rules.from_settings(settings) is rules

    def test_the_gst_slabs_change_on_22_september_2025(self) -> None:
        before = gst_rates_in_force(date(2025, 9, 21))
        after = gst_rates_in_force(date(2025, 9, 22))
        assert {Decimal(12), Decimal(28)} <= before
        assert Decimal(40) not in before
        assert after == {Decimal(r) for r in ("0", "0.25", "3", "5", "18", "40")}

    def test_a_rate_of_the_old_slabs_is_refused_under_the_new_ones(self) -> None:
        old = Rules(gst_rates_in_force(date(2025, 9, 1)), district_index())
        new = Rules(gst_rates_in_force(date(2025, 10, 1)), district_index())
        assert isinstance(validate_item(json_row(gst_rate=12), ROW, old), ItemIn)
        assert isinstance(validate_item(json_row(gst_rate=12), ROW, new), list)


PINNED_HASH = "d090a80d046373e044c83db4a15d3608e932ee1e7785176b28e63a01553b168c"
