from __future__ import annotations

import unicodedata


def nfc(value: str) -> str:
    """Unicode NFC: Devanagari typed on different keyboards compares equal after this."""
    return unicodedata.normalize("NFC", value)


def clean(value: object) -> str:
    """Trimmed NFC text from a cell or JSON value; None becomes ''."""
    if value is None:
        return ""
    return nfc(str(value)).strip()
