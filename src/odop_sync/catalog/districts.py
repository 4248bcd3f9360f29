"""Canonical districts (odop_sync/config/districts.toml): lookup by name, Hindi name, alias or
LGD code.

Operators type districts many ways: "Bhadohi", "Sant Ravidas Nagar", "SANT RAVIDAS NAGAR
(BHADOHI)", "भदोही", "Muzaffar Nagar", "आजमगढ़" without the nukta. All of them fold to one key:
letters and digits only, case-folded, with the nukta dropped and chandrabindu read as anusvara.
"""

from __future__ import annotations

import difflib
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from odop_sync.config import config_file
from odop_sync.kit.text import nfc

__all__ = [
    "District",
    "DistrictIndex",
    "district_by_code",
    "district_index",
    "district_name",
    "lookup_key",
]

_NUKTA = "\u093c"
_CHANDRABINDU, _ANUSVARA = "\u0901", "\u0902"


@dataclass(frozen=True, slots=True)
class District:
    code: str  # "<STATE>-<slug>", e.g. "UP-lucknow"
    name: str
    name_hi: str
    state: str
    aliases: tuple[str, ...] = ()
    lgd_code: str | None = None


def lookup_key(text: str) -> str:
    """The spelling-insensitive key a district name is matched by."""
    # NFD splits precomposed nukta letters (ज़ = U+095B) so the nukta can be dropped.
    decomposed = unicodedata.normalize("NFD", text.casefold())
    decomposed = decomposed.replace(_NUKTA, "").replace(_CHANDRABINDU, _ANUSVARA)
    # Devanagari vowel signs and virama are combining marks and belong to the word; Latin
    # accents ("Mysūru") are dropped so the plain spelling matches.
    kept = (ch for ch in decomposed if ch.isalnum() or "\u0900" <= ch <= "\u097f")
    return nfc("".join(kept))


@dataclass
class DistrictIndex:
    districts: list[District]
    _by_key: dict[str, District] = field(default_factory=dict, repr=False)
    _by_code: dict[str, District] = field(default_factory=dict, repr=False)
    _names: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for d in self.districts:
            self._by_code[d.code] = d
            names = [d.code, d.name, d.name_hi, *d.aliases]
            if d.lgd_code:
                names.append(d.lgd_code)
            for name in names:
                key = lookup_key(name)
                if key:
                    self._by_key.setdefault(key, d)
            for name in (d.name, d.name_hi, *d.aliases):
                self._names.setdefault(lookup_key(name), name)

    def lookup(self, text: str) -> District | None:
        """The district named by `text` (name, Hindi name, alias, code or LGD code), or None."""
        key = lookup_key(text)
        return self._by_key.get(key) if key else None

    def by_code(self, code: str) -> District | None:
        return self._by_code.get(code)

    def suggest(self, text: str, n: int = 3) -> list[str]:
        """A few known district names close to `text`, best first, for an error message."""
        found = difflib.get_close_matches(lookup_key(text), list(self._names), n=n * 2, cutoff=0.6)
        out: list[str] = []
        for key in found:
            district = self._by_key[key]
            label = self._names[key]
            if label != district.name:
                label = f"{label} ({district.name})"
            if label not in out:
                out.append(label)
        return out[:n]


@cache
def district_index() -> DistrictIndex:
    with config_file("districts.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return DistrictIndex(
        [
            District(
                code=d["code"],
                name=d["name"],
                name_hi=nfc(d["name_hi"]),
                state=d["state"],
                aliases=tuple(nfc(a) for a in d.get("aliases", ())),
                lgd_code=str(d["lgd_code"]) if d.get("lgd_code") else None,
            )
            for d in data["district"]
        ]
    )


def district_by_code(code: str | None) -> District | None:
    """The district of a canonical code (None when unknown or empty)."""
    return district_index().by_code(code) if code else None


def district_name(code: str | None) -> str | None:
    """The English name of a canonical district code (None when unknown or empty)."""
    found = district_by_code(code)
    return found.name if found else None
