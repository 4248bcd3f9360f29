"""The pages' labels: one message file per language (messages/<lang>.json), the same keys in
each. The page's language comes from `?lang=` (so a shared link keeps it), else English."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

MESSAGES_DIR = Path(__file__).resolve().parent / "messages"
LANGUAGES = ("en", "hi")
DEFAULT_LANGUAGE = "en"


@cache
def messages(lang: str) -> dict[str, str]:
    """The labels of `lang` (one of LANGUAGES); read once per process."""
    if lang not in LANGUAGES:
        raise ValueError(f"no messages for {lang!r}")
    path = MESSAGES_DIR / f"{lang}.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def choose(raw: str | None) -> str:
    """The language asked for, when it is one the pages have; else the default."""
    return raw if raw in LANGUAGES else DEFAULT_LANGUAGE
