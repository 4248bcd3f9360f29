"""Canonical districts (config/districts.toml): lookup by name, Hindi name, alias or LGD code."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache

from odop_sync.config import config_dir
from odop_sync.kit.text import nfc


@dataclass(frozen=True, slots=True)
class District:
    code: str
    name: str
    name_hi: str
    state: str
    aliases: tuple[str, ...] = ()
    lgd_code: str | None = None


def _key(text: str) -> str:
    return re.sub(r"[\s._-]+", " ", nfc(text)).strip().casefold()


@dataclass
class DistrictIndex:
    districts: list[District]
    _by_key: dict[str, District] = field(default_factory=dict)
    _by_code: dict[str, District] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for d in self.districts:
            self._by_code[d.code] = d
            names = [d.code, d.name, d.name_hi, *d.aliases]
            if d.lgd_code:
                names.append(d.lgd_code)
            for name in names:
                self._by_key.setdefault(_key(name), d)

    def lookup(self, text: str) -> District | None:
        return self._by_key.get(_key(text))

    def by_code(self, code: str) -> District | None:
        return self._by_code.get(code)

    def suggest(self, text: str, n: int = 3) -> list[str]:
        names = {d.name for d in self.districts} | {a for d in self.districts for a in d.aliases}
        return difflib.get_close_matches(text.strip().title(), sorted(names), n=n, cutoff=0.6)


@cache
def district_index() -> DistrictIndex:
    with (config_dir() / "districts.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return DistrictIndex(
        [
            District(
                code=d["code"],
                name=d["name"],
                name_hi=nfc(d["name_hi"]),
                state=d["state"],
                aliases=tuple(d.get("aliases", ())),
                lgd_code=str(d["lgd_code"]) if d.get("lgd_code") else None,
            )
            for d in data["district"]
        ]
    )


def district_name(code: str | None) -> str | None:
    """The English name of a canonical district code (None when unknown or empty)."""
    if not code:
        return None
    found = district_index().by_code(code)
    return found.name if found else None
