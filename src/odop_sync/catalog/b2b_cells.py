"""Reading a row's B2B cells (`b2b_moq`, `b2b_moq_unit`, `b2b_price_tiers`, …, `export_hs_code`)
into `WholesaleTerms`, every problem recorded against the row and field with a message an
operator can act on.

Sheets give tiers and lead times as text (`2-49:1850|50-199:1700|200+:1550`,
`1-50:15|51-200:30|201+:45`); JSON gives the same text or a list of objects. Units and payment
terms are accepted in their common spellings (pcs, sq m, kg, T/T, L/C …) and stored canonical.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from odop_sync.catalog.b2b import (
    B2B_COLUMNS,
    MAX_DAYS,
    MAX_QUANTITY,
    PAYMENT_TERMS,
    UNITS,
    LeadTime,
    PriceTier,
    WholesaleTerms,
    ladder_problems,
    lead_time_problems,
    quantities,
)
from odop_sync.catalog.cells import RowReader
from odop_sync.kit.money import MoneyError, rupees_to_paise
from odop_sync.kit.text import clean, nfc

__all__ = ["given", "read_terms"]

REQUIRED = ("b2b_moq", "b2b_moq_unit", "b2b_price_tiers")
WHAT = {
    "b2b_moq": "the minimum order quantity, a whole number like 10",
    "b2b_moq_unit": "the unit of the minimum order quantity, like piece or square_metre",
    "b2b_price_tiers": "the price per unit by quantity, like 2-49:1850|50-199:1700|200+:1550",
}
TIERS_HELP = (
    "write the tiers like 2-49:1850|50-199:1700|200+:1550 (quantities, a colon, the price per "
    "unit in rupees; only the last may be open-ended, like 200+)"
)
LEADS_HELP = (
    "write the lead times like 1-50:15|51-200:30|201+:45 (quantities, a colon, days to dispatch)"
)
# Folded by `_fold`: NFC, case-folded, without spaces, dots, '_', '-' and '/'.
_UNIT_SPELLINGS = {
    "piece": ("pieces", "pc", "pcs", "pce", "nos", "no", "unit", "units", "नग", "पीस"),
    "pair": ("pairs", "pr", "prs", "जोड़ा", "जोड़ी"),
    "set": ("sets", "सेट"),
    "dozen": ("dozens", "doz", "dz", "दर्जन"),
    "square_metre": (
        "square metres",
        "square meter",
        "square meters",
        "sq m",
        "sqm",
        "sq mt",
        "sq mtr",
        "sq metre",
        "sq meter",
        "m2",
        "m²",
        "वर्ग मीटर",
    ),
    "metre": ("metres", "meter", "meters", "m", "mtr", "mtrs", "मीटर"),
    "kilogram": ("kilograms", "kg", "kgs", "kilo", "kilos", "किलो", "किलोग्राम"),
    "carton": ("cartons", "ctn", "ctns", "कार्टन"),
}
_PAYMENT_SPELLINGS = {
    "TT": ("telegraphic transfer", "wire transfer"),
    "LC": ("letter of credit",),
    "DP": ("documents against payment",),
    "DA": ("documents against acceptance",),
    "western_union": ("wu",),
    "paypal": (),
}
_FOLD_RE = re.compile(r"[\s._/\-]+")
_QTY = r"(\d[\d,]*)"
TIER_RE = re.compile(rf"{_QTY}\s*(?:(\+)|[-–—]\s*{_QTY})\s*:\s*(\S.*)")
LEAD_RE = re.compile(rf"{_QTY}\s*(?:(\+)|[-–—]\s*{_QTY})\s*:\s*(\d+)\s*(?:days?|d)?")
SPLIT_RE = re.compile(r"[|\r\n]")
HS_RE = re.compile(r"^\d{6}(\d{2}){0,2}$")


def _fold(text: str) -> str:
    return _FOLD_RE.sub("", nfc(text).casefold())


def _synonyms(spellings: dict[str, tuple[str, ...]]) -> dict[str, str]:
    out = {}
    for canonical, others in spellings.items():
        for spelling in (canonical, *others):
            out[_fold(spelling)] = canonical
    return out


UNIT_KEYS = _synonyms(_UNIT_SPELLINGS)
PAYMENT_KEYS = _synonyms(_PAYMENT_SPELLINGS)


def given(value: Any) -> bool:
    """Whether a cell or JSON value says anything (empty text and empty lists do not)."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | dict):
        return bool(value)
    return True


def read_terms(r: RowReader, hsn_code: str | None) -> WholesaleTerms | None:
    """The row's wholesale terms; None when it gives none of the B2B columns, or when one of
    them is wrong (each problem is recorded in `r`)."""
    present = [c for c in B2B_COLUMNS if given(r.raw.get(c))]
    if not present:
        return None
    before = len(r.issues)
    for name in REQUIRED:
        if name not in present:
            r.fail(
                name,
                f"is required when a product has B2B terms (this row gives {present[0]}): "
                + WHAT[name],
            )
    moq = _count(r, "b2b_moq", "units")
    unit = _unit(r)
    tiers = _tiers(r, moq)
    supply = _count(r, "b2b_supply_per_month", "units a month")
    leads = _lead_times(r, moq)
    port = r.text("b2b_port_of_loading", max_len=100)
    terms = _payment_terms(r)
    export_hs = _export_hs_code(r, hsn_code)
    if len(r.issues) > before or moq is None or unit is None or tiers is None:
        return None
    return WholesaleTerms(
        moq=moq,
        moq_unit=unit,
        price_tiers=tiers,
        supply_per_month=supply,
        lead_times=leads,
        port_of_loading=port,
        payment_terms=terms,
        export_hs_code=export_hs,
    )


def _whole(value: Any) -> int | None:
    """A whole number from a JSON number or cell text ("1,000" too); None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if text.isascii() and text.isdigit():
            return int(text)
    return None


def _count(r: RowReader, name: str, unit: str) -> int | None:
    value = r.raw.get(name)
    if not given(value):
        return None
    number = _whole(value)
    if number is None:
        r.fail(name, f"must be a whole number of {unit}, like 10")
    elif number < 1:
        r.fail(name, "must be 1 or more")
    elif number > MAX_QUANTITY:
        r.fail(name, f"is more than {MAX_QUANTITY:,}; check the number")
    else:
        return number
    return None


def _unit(r: RowReader) -> str | None:
    value = r.raw.get("b2b_moq_unit")
    if not given(value):
        return None
    unit = UNIT_KEYS.get(_fold(value)) if isinstance(value, str) else None
    if unit is None:
        r.fail(
            "b2b_moq_unit",
            f"{clean(value)[:40]!r} is not a unit we know; use one of " + ", ".join(UNITS),
        )
    return unit


def _entries(
    r: RowReader, name: str, value: Any, pattern: re.Pattern[str], what: str, help_: str
) -> list[tuple[str, ...]] | None:
    """The text form split into tiers (or lead times): (low, plus, high, last) groups each;
    None (and the problem recorded) when a part is not like the example."""
    parts = [p.strip() for p in SPLIT_RE.split(value) if p.strip()]
    out: list[tuple[str, ...]] = []
    for n, part in enumerate(parts, 1):
        match = pattern.fullmatch(part)
        if match is None:
            r.fail(name, f"{what} {n} ({part[:40]!r}) is not like the example: {help_}")
            return None
        out.append(tuple(g or "" for g in match.groups()))
    return out


def _tiers(r: RowReader, moq: int | None) -> tuple[PriceTier, ...] | None:
    value = r.raw.get("b2b_price_tiers")
    if not given(value):
        return None
    name = "b2b_price_tiers"
    raw: list[tuple[Any, Any, Any]]
    if isinstance(value, str):
        entries = _entries(r, name, value, TIER_RE, "tier", TIERS_HELP)
        if entries is None:
            return None
        raw = [(low, None if plus else high, price) for low, plus, high, price in entries]
    elif isinstance(value, list):
        listed = _listed(r, name, value, "tier", ("min_quantity", "price"), ("max_quantity",))
        if listed is None:
            return None
        raw = [(e["min_quantity"], e.get("max_quantity"), e["price"]) for e in listed]
    else:
        r.fail(name, TIERS_HELP)
        return None
    tiers: list[PriceTier] = []
    for n, (low, high, price) in enumerate(raw, 1):
        span = _span(r, name, f"tier {n}", low, high)
        paise = _price(r, n, price)
        if span is not None and paise is not None:
            tiers.append(PriceTier(min_quantity=span[0], max_quantity=span[1], price_paise=paise))
    if len(tiers) < len(raw):
        return None
    problems = ladder_problems(tiers, moq)
    for problem in problems:
        r.fail(name, problem)
    return None if problems else tuple(tiers)


def _listed(
    r: RowReader,
    name: str,
    value: list[Any],
    what: str,
    required: Sequence[str],
    optional: Sequence[str],
) -> list[dict[str, Any]] | None:
    """The JSON list form: objects with the `required` keys and maybe the `optional` ones."""
    keys = (*required, *optional)
    for n, entry in enumerate(value, 1):
        if not isinstance(entry, dict):
            r.fail(name, f"{what} {n} must be an object with " + ", ".join(keys))
            return None
        unknown = sorted(set(entry) - set(keys))
        missing = [k for k in required if entry.get(k) is None]
        if unknown or missing:
            wrong = f"has no {missing[0]}" if missing else f"has an unknown key {unknown[0]!r}"
            r.fail(name, f"{what} {n} {wrong}; give " + ", ".join(keys))
            return None
    return value


def _span(
    r: RowReader, name: str, label: str, low: Any, high: Any
) -> tuple[int | None, int | None] | None:
    """(from, up to) quantities, each checked; None (and the problem recorded) if one is wrong."""
    out: list[int | None] = []
    for value in (low, high):
        if value is None or value == "":
            out.append(None)
            continue
        number = _whole(value)
        if number is None or number < 1 or number > MAX_QUANTITY:
            r.fail(name, f"{label}: {value!r} is not a quantity from 1 to {MAX_QUANTITY:,}")
            return None
        out.append(number)
    return out[0], out[1]


def _price(r: RowReader, n: int, value: Any) -> int | None:
    try:
        paise = rupees_to_paise(value)
    except MoneyError as exc:
        r.fail("b2b_price_tiers", f"tier {n}: the price {exc}")
        return None
    if paise == 0:
        r.fail("b2b_price_tiers", f"tier {n}: the price must be more than 0")
        return None
    return paise


def _lead_times(r: RowReader, moq: int | None) -> tuple[LeadTime, ...]:
    value = r.raw.get("b2b_lead_times")
    if not given(value):
        return ()
    name = "b2b_lead_times"
    raw: list[tuple[Any, Any, Any]]
    if isinstance(value, str):
        entries = _entries(r, name, value, LEAD_RE, "lead time", LEADS_HELP)
        if entries is None:
            return ()
        raw = [(low, None if plus else high, days) for low, plus, high, days in entries]
    elif isinstance(value, list):
        listed = _listed(r, name, value, "lead time", ("days",), ("min_quantity", "max_quantity"))
        if listed is None:
            return ()
        raw = [(e.get("min_quantity"), e.get("max_quantity"), e["days"]) for e in listed]
    else:
        r.fail(name, LEADS_HELP)
        return ()
    checked: list[tuple[int | None, int | None, int]] = []
    for n, (low, high, days_value) in enumerate(raw, 1):
        span = _span(r, name, f"lead time {n}", low, high)
        days = _whole(days_value)
        if days is None or not 1 <= days <= MAX_DAYS:
            r.fail(name, f"lead time {n}: {days_value!r} days; use 1 to {MAX_DAYS} days")
        elif span is not None:
            checked.append((span[0], span[1], days))
    if len(checked) < len(raw):
        return ()
    problems = lead_time_problems(checked)
    first = checked[0][0] if checked else None
    if moq is not None and first is not None and first > moq:
        problems.append(
            f"lead time 1 starts at {first}, above the minimum order quantity {moq}: orders "
            f"of {quantities(moq, first - 1)} units have no lead time; start it at {moq}"
        )
    for problem in problems:
        r.fail(name, problem)
    return () if problems else tuple(LeadTime(max_quantity=e, days=d) for _, e, d in checked)


def _payment_terms(r: RowReader) -> tuple[str, ...]:
    value = r.raw.get("b2b_payment_terms")
    if not given(value):
        return ()
    if isinstance(value, str):
        words = [w.strip() for w in re.split(r"[|,;\r\n]", value) if w.strip()]
    elif isinstance(value, list) and all(isinstance(w, str) for w in value):
        words = [w.strip() for w in value if w.strip()]
    else:
        r.fail("b2b_payment_terms", "must be payment terms like TT|LC, or a list of them")
        return ()
    found: set[str] = set()
    for word in words:
        term = PAYMENT_KEYS.get(_fold(word))
        if term is None:
            r.fail(
                "b2b_payment_terms",
                f"{word[:40]!r} is not a payment term we know; use "
                + ", ".join(PAYMENT_TERMS)
                + " (several separated by '|')",
            )
            return ()
        found.add(term)
    # Canonical order, so "LC|TT" and "TT|LC" are the same terms (and the same content hash).
    return tuple(t for t in PAYMENT_TERMS if t in found)


def _export_hs_code(r: RowReader, hsn_code: str | None) -> str | None:
    value = r.raw.get("export_hs_code")
    if not given(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        # A number cell drops a leading zero (chapters 01-09), as for the HSN code.
        text = str(value)
        text = "0" + text if len(text) % 2 else text
    elif isinstance(value, str):
        text = re.sub(r"[\s.]", "", value)
    else:
        text = ""
    if not HS_RE.match(text):
        r.fail("export_hs_code", f"{clean(value)[:40]!r} is not an HS code: use 6, 8 or 10 digits")
        return None
    if text == hsn_code:
        r.fail(
            "export_hs_code",
            "is the same as hsn_code; give an export HS code only where it differs from the "
            "HSN code, else leave it empty",
        )
        return None
    return text
