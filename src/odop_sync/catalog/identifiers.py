"""Producer identifiers, validated by format (and GSTIN by its check character)."""

from __future__ import annotations

import re

_GSTIN_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_GSTIN = re.compile(r"^(\d{2})([A-Z]{5}\d{4}[A-Z])([1-9A-Z])Z([0-9A-Z])$")
# State codes 01–38 plus 97 (other territory) and 99 (centre jurisdiction).
_GST_STATES = {f"{n:02d}" for n in range(1, 39)} | {"97", "99"}
_UDYAM = re.compile(r"^UDYAM-[A-Z]{2}-\d{2}-\d{7}$")
# No public specification of the handicrafts "Pehchan" artisan card number format was found;
# issued cards carry letters, digits and separators (e.g. "UP/LKO/2019/004512").
_PEHCHAN = re.compile(r"^[A-Z0-9][A-Z0-9/-]{4,18}[A-Z0-9]$")


def gstin_check_char(first14: str) -> str:
    """The GSTIN check character: mod-36 over the first 14 characters, weights 1,2,1,2…"""
    total = 0
    for i, ch in enumerate(first14.upper()):
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
        raise ValueError(f"{match.group(1)} is not a GST state code")
    expected = gstin_check_char(gstin[:14])
    if gstin[14] != expected:
        raise ValueError("the GSTIN's check character does not match; check for a typing mistake")
    return gstin


def validate_udyam(value: str) -> str:
    udyam = value.strip().upper()
    if not _UDYAM.match(udyam):
        raise ValueError("a Udyam registration number looks like UDYAM-UP-43-0012345")
    return udyam


def validate_pehchan(value: str) -> str:
    card = value.strip().upper()
    if not _PEHCHAN.match(card):
        raise ValueError("an artisan (Pehchan) card number has 6-20 letters, digits, '/' or '-'")
    return card
