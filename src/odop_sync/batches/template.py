"""The sheet template (`GET /v1/batches/template.xlsx`): every column the importer reads, in the
contract's order (`ITEM_COLUMNS`), each header with a note in English and Hindi, drop-downs for
the GST rate and the district, and one example row that imports as it is.

`build_template` is CPU work for openpyxl: run it in a worker thread."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from odop_sync.batches.schemas import ITEM_EXAMPLE
from odop_sync.catalog.districts import district_index
from odop_sync.catalog.rules import ITEM_COLUMNS, gst_rates_in_force, india_today

__all__ = ["COLUMN_HELP", "EXAMPLE_ROW", "LISTS_SHEET", "build_template"]

LISTS_SHEET = "lists"  # hidden: the drop-downs' values
FIRST_DATA_ROW, LAST_DATA_ROW = 2, 5001  # the rows the drop-downs apply to

# column: (English name, Hindi name, what goes there)
COLUMN_HELP: dict[str, tuple[str, str, str]] = {
    "sku": ("SKU", "एसकेयू", "Required. The variant's own code: 1-40 letters, digits, . _ -"),
    "product_ref": (
        "Product reference",
        "उत्पाद संदर्भ",
        "The product this variant belongs to (rows of one product share it); default: the SKU",
    ),
    "producer_ref": (
        "Producer reference",
        "उत्पादक संदर्भ",
        "Required. The ref of a producer already registered with your agency",
    ),
    "title_en": ("Title (English)", "शीर्षक (अंग्रेज़ी)", "Required. Up to 200 characters"),
    "title_hi": ("Title (Hindi)", "शीर्षक (हिंदी)", "In Devanagari; leave empty if there is none"),
    "description_en": ("Description (English)", "विवरण (अंग्रेज़ी)", "Up to 2000 characters"),
    "description_hi": ("Description (Hindi)", "विवरण (हिंदी)", "In Devanagari, up to 2000"),
    "district": ("District", "ज़िला", "Pick from the list (a district's name works too)"),
    "craft": ("Craft", "शिल्प", "e.g. Carpet weaving"),
    "odop_product": ("ODOP product", "ओडीओपी उत्पाद", "The district's ODOP product, e.g. Carpets"),
    "gi_tag": ("GI tag", "जीआई टैग", "The Geographical Indication, if the product has one"),
    "hsn_code": ("HSN code", "एचएसएन कोड", "Required. 4, 6 or 8 digits, e.g. 5701"),
    "gst_rate": ("GST rate (%)", "जीएसटी दर (%)", "Required. Pick a rate in force from the list"),
    "mrp": ("MRP (₹)", "एमआरपी (₹)", "Required. Printed maximum retail price in rupees"),
    "price": ("Selling price (₹)", "बिक्री मूल्य (₹)", "Required. In rupees, not above the MRP"),
    "stock": ("Stock", "स्टॉक", "Required. Whole units on hand, 0 or more"),
    "weight_g": ("Weight (g)", "वज़न (ग्राम)", "Packed weight in grams"),
    "length_cm": ("Length (cm)", "लंबाई (सेमी)", "Package length in cm"),
    "width_cm": ("Width (cm)", "चौड़ाई (सेमी)", "Package width in cm"),
    "height_cm": ("Height (cm)", "ऊँचाई (सेमी)", "Package height in cm"),
    "material": ("Material", "सामग्री", "e.g. Wool"),
    "color": ("Colour", "रंग", "e.g. Red"),
    "size": ("Size", "आकार", "e.g. 3x5 ft"),
    "images": (
        "Images",
        "चित्र",
        "Required. https:// image URLs, several separated by | (at least one)",
    ),
    "attributes": (
        "Attributes",
        "विशेषताएँ",
        'A JSON object, e.g. {"knots_per_sq_inch": 100}; or add attr.<name> columns',
    ),
    "b2b_moq": ("Wholesale MOQ", "न्यूनतम थोक मात्रा", "Wholesale only: minimum order quantity"),
    "b2b_moq_unit": ("MOQ unit", "इकाई", "piece, pair, set, dozen, square_metre, metre, …"),
    "b2b_price_tiers": (
        "Wholesale price tiers",
        "थोक मूल्य स्तर",
        "Price per unit by quantity, e.g. 2-49:12500|50-199:11200|200+:9800",
    ),
    "b2b_supply_per_month": ("Supply per month", "मासिक आपूर्ति", "Units you can make a month"),
    "b2b_lead_times": (
        "Lead times",
        "तैयारी का समय",
        "Days to dispatch by quantity, e.g. 1-50:45|51-200:60|201+:75",
    ),
    "b2b_port_of_loading": ("Port of loading", "लदान बंदरगाह", "e.g. Nhava Sheva (Mumbai)"),
    "b2b_payment_terms": ("Payment terms", "भुगतान शर्तें", "e.g. TT|LC"),
    "export_hs_code": (
        "Export HS code",
        "निर्यात एचएस कोड",
        "6, 8 or 10 digits, only where it differs from the HSN code",
    ),
}


def _example_row() -> dict[str, Any]:
    row = dict(ITEM_EXAMPLE)
    row["district"] = "UP-bhadohi"
    row["images"] = "|".join(row["images"])
    return row


EXAMPLE_ROW = _example_row()


def _cell(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def build_template() -> bytes:
    """The template workbook as XLSX bytes."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    missing = [c for c in ITEM_COLUMNS if c not in COLUMN_HELP]
    if missing:
        raise AssertionError(f"no help text for the columns {missing}")
    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = "items"
    lists = workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    rates = sorted(gst_rates_in_force(india_today()))
    codes = [d.code for d in district_index().districts]
    for n, rate in enumerate(rates, start=1):
        lists.cell(row=n, column=1, value=int(rate) if rate == rate.to_integral() else float(rate))
    for n, code in enumerate(codes, start=1):
        lists.cell(row=n, column=2, value=code)
    for n, column in enumerate(ITEM_COLUMNS, start=1):
        english, hindi, what = COLUMN_HELP[column]
        header = sheet.cell(row=1, column=n, value=column)
        header.comment = Comment(f"{english} / {hindi}\n{what}", "odop-sync", 120, 320)
        sheet.cell(row=2, column=n, value=_cell(EXAMPLE_ROW.get(column)))
        sheet.column_dimensions[get_column_letter(n)].width = max(12, len(column) + 4)
    sheet.freeze_panes = "A2"
    for column, source, title in (
        ("gst_rate", f"{LISTS_SHEET}!$A$1:$A${len(rates)}", "GST rate"),
        ("district", f"{LISTS_SHEET}!$B$1:$B${len(codes)}", "District"),
    ):
        letter = get_column_letter(ITEM_COLUMNS.index(column) + 1)
        validation = DataValidation(
            type="list",
            formula1=f"={source}",
            allow_blank=True,
            showErrorMessage=column == "gst_rate",
            errorTitle=title,
            error="Pick a value from the list",
        )
        validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{LAST_DATA_ROW}")
        sheet.add_data_validation(validation)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
