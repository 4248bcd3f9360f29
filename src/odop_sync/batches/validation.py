"""Row validation: DESIGN §4 rules turned into canonical `ItemIn` / `ProducerIn` values.

Every problem of a row is reported at once as `{row, field, message}`, worded so an operator
knows what to change in the sheet. JSON values (numbers, lists, objects) and sheet cells
(strings, or numbers from XLSX) are both accepted.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import re
import socket
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import orjson

from odop_sync.catalog.districts import DistrictIndex, district_index
from odop_sync.catalog.identifiers import validate_gstin, validate_pehchan, validate_udyam
from odop_sync.config import Settings, config_file
from odop_sync.kit.money import MoneyError, paise_to_rupees, rupees_to_paise
from odop_sync.kit.problems import FieldIssue
from odop_sync.kit.text import clean
from odop_sync.models import ProducerKind

SKU_RE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
REF_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
HSN_RE = re.compile(r"^(\d{4}|\d{6}|\d{8})$")
# A Devanagari letter (independent vowels, consonants, nukta forms, om); signs and digits alone
# (a danda, "१२") do not make a Hindi title.
DEVANAGARI_LETTER_RE = re.compile(r"[\u0904-\u0939\u093D\u0950\u0958-\u0961\u0972-\u097F]")
IST = timezone(timedelta(hours=5, minutes=30))  # GST slabs change at midnight in India
MAX_WEIGHT_G = Decimal(10_000_000)  # 10 tonnes; the column is NUMERIC(12, 2)
MAX_LENGTH_CM = Decimal(100_000)  # 1 km; the columns are NUMERIC(10, 2)
PHONE_RE = re.compile(r"^\+?[0-9][0-9 -]{6,18}[0-9]$")
# What str.isspace() calls whitespace (re's \s is the same set), and the C0 controls.
SPACE_OR_CONTROL_RE = re.compile(r"[\s\x00-\x1f]")
# The common image URL: lower-case http(s) scheme and a plain host name or IPv4 address (no user,
# port or IPv6 brackets), then anything from the first "/", "?" or "#" on.
PLAIN_HTTP_URL_RE = re.compile(r"(https?)://([A-Za-z0-9.-]+)(?:[/?#].*)?", re.DOTALL)

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


@dataclass(frozen=True, slots=True)
class ItemIn:
    """One canonical, validated variant row."""

    row: int
    sku: str
    product_ref: str
    producer_ref: str
    title_en: str
    title_hi: str | None
    description_en: str | None
    description_hi: str | None
    district_code: str | None
    craft: str | None
    odop_product: str | None
    gi_tag: str | None
    hsn_code: str
    gst_rate: Decimal
    mrp_paise: int
    price_paise: int
    stock: int
    weight_g: Decimal | None
    length_cm: Decimal | None
    width_cm: Decimal | None
    height_cm: Decimal | None
    material: str | None
    color: str | None
    size: str | None
    images: tuple[str, ...]
    attributes: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """JSON-safe canonical fields: Decimals as normalised strings ("0.25", "5", "12.5"),
        money both as rupee strings ("1250.00") and as `*_paise` integers. No row number."""
        # Spelled out field by field (in declaration order): this runs for every row of every
        # batch, and a loop over __slots__ with getattr/isinstance cost more than the hashing.
        weight, length, width, height = self.weight_g, self.length_cm, self.width_cm, self.height_cm
        return {
            "sku": self.sku,
            "product_ref": self.product_ref,
            "producer_ref": self.producer_ref,
            "title_en": self.title_en,
            "title_hi": self.title_hi,
            "description_en": self.description_en,
            "description_hi": self.description_hi,
            "district_code": self.district_code,
            "craft": self.craft,
            "odop_product": self.odop_product,
            "gi_tag": self.gi_tag,
            "hsn_code": self.hsn_code,
            "gst_rate": _decimal_text(self.gst_rate),
            "mrp_paise": self.mrp_paise,
            "price_paise": self.price_paise,
            "stock": self.stock,
            "weight_g": None if weight is None else _decimal_text(weight),
            "length_cm": None if length is None else _decimal_text(length),
            "width_cm": None if width is None else _decimal_text(width),
            "height_cm": None if height is None else _decimal_text(height),
            "material": self.material,
            "color": self.color,
            "size": self.size,
            "images": list(self.images),
            "attributes": self.attributes,
            "mrp": _rupees_text(self.mrp_paise),
            "price": _rupees_text(self.price_paise),
        }

    def content_hash(self, data: dict[str, Any] | None = None) -> str:
        """SHA-256 (hex) of the key-sorted canonical JSON of everything but the row number and
        stock: a re-sent row with only new stock is "unchanged" content. Pass `to_json()` when
        you have it already."""
        data = dict(data if data is not None else self.to_json())
        data.pop("stock")
        return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True, slots=True)
class ProducerIn:
    ref: str
    kind: ProducerKind
    name_en: str
    name_hi: str | None
    district_code: str | None
    craft: str | None
    pehchan_card: str | None
    udyam_number: str | None
    gstin: str | None
    phone: str | None

    def to_json(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__}
        out["kind"] = self.kind.value
        return out


def _decimal_text(value: Decimal) -> str:
    normal = value.normalize()
    return format(normal, "f")


@functools.lru_cache(maxsize=8192)
def _rupees_text(paise: int) -> str:
    return str(paise_to_rupees(paise))


@functools.lru_cache(maxsize=8192)
def _paise(value: str | int) -> int:
    """`rupees_to_paise` of a text or integer cell, remembered: a catalogue repeats its prices.
    (Failures raise and are not remembered.)"""
    return rupees_to_paise(value)


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


class _Row:
    """Collects issues while reading one row's fields."""

    def __init__(self, raw: Mapping[str, Any], row: int | None, prefix: str = "") -> None:
        self.raw = raw
        self.row = row
        self.prefix = prefix
        self.issues: list[FieldIssue] = []

    def fail(self, name: str, message: str) -> None:
        self.issues.append(FieldIssue(row=self.row, field=self.prefix + name, message=message))

    def text(
        self, name: str, *, required: bool = False, max_len: int = 200, label: str | None = None
    ) -> str | None:
        value = self.raw.get(name)
        if type(value) is str:
            text = unicodedata.normalize("NFC", value).strip()  # clean(), minus the checks
        elif value is None:
            text = ""
        else:
            if isinstance(value, dict | list):
                self.fail(name, "must be text")
                return None
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            text = clean(value)
        if not text:
            if required:
                self.fail(name, f"is required: give the {label or name.replace('_', ' ')}")
            return None
        if len(text) > max_len:
            self.fail(name, f"is {len(text)} characters; at most {max_len} are allowed")
            return None
        return text

    def hindi(self, name: str, max_len: int) -> str | None:
        text = self.text(name, max_len=max_len)
        if text is not None and not DEVANAGARI_LETTER_RE.search(text):
            self.fail(
                name, "must be Hindi written in Devanagari script; leave it empty if there is none"
            )
            return None
        return text

    def pattern(self, name: str, regex: re.Pattern[str], message: str, **kw: Any) -> str | None:
        text = self.text(name, **kw)
        if text is not None and not regex.match(text):
            self.fail(name, message)
            return None
        return text

    def measure(self, name: str, unit: str, maximum: Decimal) -> Decimal | None:
        """An optional positive number with at most 2 decimals (weights, package sizes)."""
        value = self.raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool | dict | list):
            self.fail(name, f"must be a number of {unit}, like 250 or 12.5")
            return None
        text = repr(value) if isinstance(value, float) else clean(value).replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            self.fail(name, f"must be a number of {unit}, like 250 or 12.5")
            return None
        if not number.is_finite() or number <= 0:
            self.fail(name, f"must be more than 0 {unit} (leave it empty if unknown)")
            return None
        if number > maximum:
            self.fail(name, f"must be at most {maximum:,} {unit}; check the unit")
            return None
        if number != number.quantize(Decimal("0.01")):
            self.fail(name, "has more than 2 decimal places")
            return None
        return number.quantize(Decimal("0.01"))

    def money(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            what = "MRP" if name == "mrp" else f"{name.replace('_', ' ')}"
            self.fail(name, f"is required: the {what} in rupees, like 1250 or 1250.50")
            return None
        try:
            if type(value) is str or type(value) is int:
                return _paise(value)
            return rupees_to_paise(value)
        except MoneyError as exc:
            self.fail(name, str(exc))
            return None

    def checked(self, name: str, check: Callable[[str], str], max_len: int = 40) -> str | None:
        text = self.text(name, max_len=max_len)
        if text is None:
            return None
        try:
            return check(text)
        except ValueError as exc:
            self.fail(name, str(exc))
            return None

    def district(
        self, index: DistrictIndex, known: dict[str, str | None] | None = None
    ) -> str | None:
        value = self.raw.get("district")
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # an LGD code typed as a number
        text = clean(value) if not isinstance(value, dict | list) else ""
        if not text:
            return None
        if known is not None and text in known:
            code = known[text]
            if code is not None:
                return code
        found = index.lookup(text)
        if known is not None and len(known) < 10_000:
            known[text] = found.code if found is not None else None
        if found is None:
            hint = index.suggest(text)
            self.fail(
                "district",
                f"{text!r} is not a district we know"
                + (
                    f"; did you mean {' or '.join(hint)}?"
                    if hint
                    else "; use the district's name, e.g. Bhadohi or Lucknow"
                ),
            )
            return None
        return found.code


def _hsn(r: _Row) -> str | None:
    value = r.raw.get("hsn_code")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        # A number cell drops leading zeros: 09109100 arrives as 9109100. HSN chapters are two
        # digits, so an odd digit count can only mean one lost zero.
        text = str(value)
        text = "0" + text if len(text) % 2 else text
    else:
        text = clean(value).replace(" ", "") if not isinstance(value, dict | list) else ""
    if not text:
        r.fail("hsn_code", "is required: the 4, 6 or 8 digit HSN code of the goods")
        return None
    if not HSN_RE.match(text):
        r.fail("hsn_code", f"{text!r} is not an HSN code: use 4, 6 or 8 digits")
        return None
    return text


def _gst(r: _Row, rates: frozenset[Decimal]) -> Decimal | None:
    value = r.raw.get("gst_rate")
    if type(value) is int or type(value) is str:
        rate = _gst_rate_of(value, rates)  # a batch repeats a handful of rates
    else:
        rate = _gst_rate(value, rates)
    if isinstance(rate, str):
        r.fail("gst_rate", rate)
        return None
    return rate


@functools.lru_cache(maxsize=1024)
def _gst_rate_of(value: str | int, rates: frozenset[Decimal]) -> Decimal | str:
    return _gst_rate(value, rates)


def _gst_rate(value: Any, rates: frozenset[Decimal]) -> Decimal | str:
    """The rate, or the message saying what is wrong with the cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "is required: the GST rate in percent (most handicrafts: 5)"
    if isinstance(value, bool | dict | list):
        return "must be a percentage"
    text = repr(value) if isinstance(value, float) else clean(value).rstrip("%").strip()
    try:
        rate = Decimal(text)
    except InvalidOperation:
        return "must be a percentage, like 5 or 18"
    if rate.is_finite() and rate in rates:
        return rate.normalize() if rate != rate.to_integral() else Decimal(int(rate))
    allowed = ", ".join(_decimal_text(x) for x in sorted(rates))
    return f"{text} % is not a GST rate in force; use one of {allowed}"


def _stock(r: _Row) -> int | None:
    value = r.raw.get("stock")
    if value is None or (isinstance(value, str) and not value.strip()):
        r.fail("stock", "is required: the whole number of units on hand (0 or more)")
        return None
    if isinstance(value, bool):
        r.fail("stock", "must be a whole number")
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        r.fail("stock", "must be a whole number of units, like 12")
        return None
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        r.fail("stock", "must be a whole number of units, 0 or more")
        return None
    if number > 10_000_000:
        r.fail("stock", "is more than 10,000,000 units")
        return None
    return int(number)


def _images(r: _Row, rules: Rules) -> tuple[str, ...]:
    value = r.raw.get("images")
    if isinstance(value, str):
        # '|' per the contract; a line break (Alt+Enter in an Excel cell) works too.
        urls = [u.strip() for u in re.split(r"[|\r\n]", clean(value)) if u.strip()]
    elif isinstance(value, list):
        urls = [clean(u) for u in value if clean(u)]
    elif value is None:
        urls = []
    else:
        r.fail("images", "must be a list of image URLs, or URLs separated by '|'")
        return ()
    if not urls:
        r.fail("images", "is required: at least one https:// image URL (several separated by '|')")
        return ()
    if len(urls) > rules.max_images:
        r.fail("images", f"{len(urls)} images; at most {rules.max_images} are allowed")
        return ()
    for n, url in enumerate(urls, 1):
        problem = _image_problem(url, rules.allow_private_image_hosts)
        if problem:
            r.fail("images", f"image {n} ({url[:80]}): {problem}")
    return tuple(urls)


def _image_problem(url: str, allow_private: bool) -> str | None:
    if len(url) > 2000:
        return "the URL is longer than 2000 characters"
    if SPACE_OR_CONTROL_RE.search(url):
        return "contains spaces; write them as %20 or copy the image link again"
    simple = PLAIN_HTTP_URL_RE.fullmatch(url)
    if simple is not None:
        # What urlsplit finds in such a URL, without its cost: scheme as written, the host in
        # lower case, no port, no user name or password.
        if allow_private:
            return None
        if simple[1] != "https":
            return "must use https://"
        if _is_private_host(simple[2].lower()):
            return "points to a private, loopback or link-local address; use a public image host"
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an https:// URL"
    if parts.username is not None or parts.password is not None:
        return "must not contain a user name or password"
    if allow_private:
        return None
    if parts.scheme != "https":
        return "must use https://"
    if _is_private_host(host):
        return "points to a private, loopback or link-local address; use a public image host"
    return None


PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan")


@functools.lru_cache(maxsize=4096)
def _is_private_host(host: str) -> bool:
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(PRIVATE_SUFFIXES):
        return True
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        if not re.fullmatch(r"[0-9a-fx.]+", host):
            return False
        # Resolvers read "127.1", "2130706433" and "0x7f.0.0.1" as 127.0.0.1.
        try:
            ip = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global


ATTR_PREFIXES = ("attr.", "attr:")  # sheet columns "attr.knots_per_sq_inch" and the like


def _attributes(r: _Row) -> dict[str, Any]:
    value = r.raw.get("attributes")
    attrs: dict[str, Any] = {}
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError:
            r.fail("attributes", 'must be a JSON object, like {"knots_per_sq_inch": 100}')
            value = None
    if isinstance(value, dict):
        attrs.update(value)
    elif value not in (None, ""):
        r.fail("attributes", "must be a JSON object")
    for key, cell in r.raw.items():
        if key[:5] in ATTR_PREFIXES and key[5:] and cell not in (None, ""):
            attrs[key[5:]] = cell if not isinstance(cell, str) else clean(cell)
    if not attrs:
        return {}  # what the JSON round trip below makes of an empty object
    try:
        # The round trip makes the value plain JSON (no NaN, no tuples); orjson, which hashes
        # and stores it later, also refuses integers beyond 64 bits.
        plain: dict[str, Any] = json.loads(json.dumps(attrs, allow_nan=False))
        size = len(orjson.dumps(plain))
    except (TypeError, ValueError, orjson.JSONEncodeError):
        r.fail("attributes", "must hold only JSON values (text, numbers, lists, objects)")
        return {}
    if size > 20_000:
        r.fail("attributes", f"are {size:,} characters as JSON; at most 20,000 are allowed")
        return {}
    return plain


# The columns of a row that describe its product rather than the variant: every row of one
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
)


def _product_fields(r: _Row, rules: Rules) -> dict[str, Any]:
    """The product columns of a row, canonical (the district as its code, the GST rate as a
    Decimal); None for an empty or invalid cell, whose issue `r` records."""
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
        "hsn_code": _hsn(r),
        "gst_rate": _gst(r, rules.gst_rates),
    }


def product_fields(raw: Mapping[str, Any], rules: Rules) -> dict[str, Any] | None:
    """A row's product key (product_ref, else its SKU) and product columns as the catalog would
    store them; None when the row is not an object or one of them is invalid (it is rejected)."""
    if not isinstance(raw, Mapping):
        return None
    r = _Row(raw, None)
    sku = r.pattern("sku", SKU_RE, "", required=True, max_len=40)
    ref = r.pattern("product_ref", REF_RE, "", max_len=64)
    fields = _product_fields(r, rules)
    if r.issues:
        return None
    return {"product_ref": ref or sku, **fields}


def validate_item(raw: Mapping[str, Any], row: int, rules: Rules) -> ItemIn | list[FieldIssue]:
    if not isinstance(raw, Mapping):
        return [FieldIssue(row=row, field=None, message="each item must be an object of fields")]
    r = _Row(raw, row)
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
    stock = _stock(r)
    dims = {"weight_g": r.measure("weight_g", "grams", MAX_WEIGHT_G)}
    for name in ("length_cm", "width_cm", "height_cm"):
        dims[name] = r.measure(name, "cm", MAX_LENGTH_CM)
    material = r.text("material", max_len=120)
    color = r.text("color", max_len=60)
    size = r.text("size", max_len=60)
    images = _images(r, rules)
    attributes = _attributes(r)
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
        **dims,
    )


def validate_producer(
    raw: Mapping[str, Any], index: int, rules: Rules
) -> ProducerIn | list[FieldIssue]:
    if not isinstance(raw, Mapping):
        return [FieldIssue(field=f"producers[{index}]", message="each producer must be an object")]
    r = _Row(raw, None, prefix=f"producers[{index}].")
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
