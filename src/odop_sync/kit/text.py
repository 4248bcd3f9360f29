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


def has_nul(value: object) -> bool:
    """True when a NUL character hides anywhere in a JSON-like value. PostgreSQL text and JSONB
    cannot store U+0000, so such input is refused at the edge instead of failing in the database."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def without_nul(value: object) -> object:
    """The same value with every NUL replaced by U+FFFD, for keeping a rejected row's raw copy."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    return value
