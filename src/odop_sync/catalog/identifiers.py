"""Producer identifiers, validated by format (and the GSTIN by its check character).

Each validator takes what an operator typed, returns the normalised identifier (upper case,
surrounding spaces gone) and raises ValueError with a message fit to show to that operator.
"""

from __future__ import annotations

import re

__all__ = ["gstin_check_char", "validate_gstin", "validate_pehchan", "validate_udyam"]

_GSTIN_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# state code, PAN (5 letters, 4 digits, letter), entity number, 'Z', check character
_GSTIN = re.compile(r"^(\d{2})([A-Z]{5}\d{4}[A-Z])([1-9A-Z])Z([0-9A-Z])$")
# GST state codes 01-38, plus 97 (other territory) and 99 (centre jurisdiction).
_GST_STATES = {f"{n:02d}" for n in range(1, 39)} | {"97", "99"}
# Udyam registration: "UDYAM-" + state (2 letters) + "-" + district (2 digits) + "-" + 7 digits.
_UDYAM = re.compile(r"^UDYAM-[A-Z]{2}-\d{2}-\d{7}$")
# No published specification of the handicrafts "Pehchan" artisan card number was found (the
# Office of the Development Commissioner (Handicrafts) describes what the card holds, not how its
# number is built), so any 6-20 letters, digits, '/' or '-' are accepted, starting and ending with
# a letter or digit. Tighten this when the format is documented.
_PEHCHAN = re.compile(r"^[A-Z0-9][A-Z0-9/-]{4,18}[A-Z0-9]$")


def gstin_check_char(first14: str) -> str:
    """The GSTIN check character for its first 14 characters: Luhn mod 36 with weights 1, 2, 1,
    2 … from the left; each product contributes quotient + remainder by 36."""
    text = first14.strip().upper()
    if len(text) != 14 or any(ch not in _GSTIN_CHARS for ch in text):
        raise ValueError("a GSTIN check character needs the first 14 letters and digits")
    total = 0
    for i, ch in enumerate(text):
        product = _GSTIN_CHARS.index(ch) * (1 if i % 2 == 0 else 2)
        total += product // 36 + product % 36
    return _GSTIN_CHARS[(36 - total % 36) % 36]


def validate_gstin(value: str) -> str:
    gstin = value.strip().upper()
    match = _GSTIN.match(gstin)
    if not match:
        raise ValueError(
            "a GSTIN has 15 characters: 2-digit state code, 10-character PAN, entity number, "
            "'Z' and a check character (e.g. 09AAACH7409R1ZZ)"
        )
    if match.group(1) not in _GST_STATES:
        raise ValueError(
            f"{match.group(1)} is not a GST state code (01-38, 97 or 99); check the first 2 digits"
        )
    if gstin[14] != gstin_check_char(gstin[:14]):
        raise ValueError("the GSTIN's check character does not match; check for a typing mistake")
    return gstin


def validate_udyam(value: str) -> str:
    udyam = value.strip().upper()
    if not _UDYAM.match(udyam):
        raise ValueError(
            "a Udyam registration number looks like UDYAM-UP-43-0012345 "
            "(UDYAM, state, 2-digit district, 7 digits)"
        )
    return udyam


def validate_pehchan(value: str) -> str:
    card = value.strip().upper()
    if not _PEHCHAN.match(card):
        raise ValueError(
            "an artisan (Pehchan) card number has 6-20 letters, digits, '/' or '-', "
            "as printed on the card"
        )
    return card
