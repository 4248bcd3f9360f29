"""Reading one row's cells: text, Hindi, numbers, money, HSN codes, GST rates, stock, image
URLs and attributes, each checked and turned canonical, every problem recorded against its row
and field with a message an operator can act on.

JSON values (numbers, lists, objects) and sheet cells (strings, or numbers from XLSX) are both
accepted. `odop_sync.catalog.rules` assembles these readers into whole items and producers.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import socket
import unicodedata
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import orjson

from odop_sync.catalog.districts import DistrictIndex
from odop_sync.catalog.items import decimal_text
from odop_sync.kit.money import MoneyError, rupees_to_paise
from odop_sync.kit.problems import FieldIssue
from odop_sync.kit.text import clean

HSN_RE = re.compile(r"^(\d{4}|\d{6}|\d{8})$")
# A Devanagari letter (independent vowels, consonants, nukta forms, om); signs and digits alone
# (a danda, "१२") do not make a Hindi title.
DEVANAGARI_LETTER_RE = re.compile(r"[\u0904-\u0939\u093D\u0950\u0958-\u0961\u0972-\u097F]")
# What str.isspace() calls whitespace (re's \s is the same set), and the C0 controls.
SPACE_OR_CONTROL_RE = re.compile(r"[\s\x00-\x1f]")
# The common image URL: lower-case http(s) scheme and a plain host name or IPv4 address (no user,
# port or IPv6 brackets), then anything from the first "/", "?" or "#" on.
PLAIN_HTTP_URL_RE = re.compile(r"(https?)://([A-Za-z0-9.-]+)(?:[/?#].*)?", re.DOTALL)


@functools.lru_cache(maxsize=8192)
def _paise(value: str | int) -> int:
    """`rupees_to_paise` of a text or integer cell, remembered: a catalogue repeats its prices.
    (Failures raise and are not remembered.)"""
    return rupees_to_paise(value)


class RowReader:
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


def hsn_code(r: RowReader) -> str | None:
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


def gst_rate(r: RowReader, rates: frozenset[Decimal]) -> Decimal | None:
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
    allowed = ", ".join(decimal_text(x) for x in sorted(rates))
    return f"{text} % is not a GST rate in force; use one of {allowed}"


def stock(r: RowReader) -> int | None:
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


def images(r: RowReader, max_images: int, allow_private: bool) -> tuple[str, ...]:
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
    if len(urls) > max_images:
        r.fail("images", f"{len(urls)} images; at most {max_images} are allowed")
        return ()
    for n, url in enumerate(urls, 1):
        problem = _image_problem(url, allow_private)
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


def attributes(r: RowReader) -> dict[str, Any]:
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
