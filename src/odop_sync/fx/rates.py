"""Pure FX rules, apart from the database: which rate a day uses, when it is too old to price a
listing with, what to tell the user, and the conversion itself.

A rate is INR per one unit of the other currency (84.12 for USD means US$1 = ₹84.12). Every
currency the store takes has two decimal places, like the rupee, so an amount in paise converts
to the other currency's minor units (cents) as `paise / rate`, rounded half up to a whole cent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

INR = "INR"
MISSING = "FX_RATE_MISSING"
STALE = "FX_RATE_STALE"
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
MAX_DECIMALS = 6
MAX_RATE = Decimal(10_000_000)  # INR per unit; no currency is anywhere near
FIRST_DAY = date(2000, 1, 1)

# ISO 4217 currencies whose minor unit is not a hundredth (0 decimals: JPY, KRW…; 3: BHD,
# KWD…; 4: CLF, UYW). odop-sync keeps money as two-decimal minor units everywhere (the SDK's
# Money), so it does not take rates for these.
NOT_TWO_DECIMALS = frozenset(
    {
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
        "VND", "VUV", "XAF", "XOF", "XPF",
        "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND",
        "CLF", "UYW",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RateUsed:
    """One stored rate, detached from the ORM session."""

    currency: str
    rate: Decimal
    source: str
    valid_on: date

    def detail(self) -> dict[str, Any]:
        """As recorded in JSON (the attempt log): the rate as a string, never a float."""
        return {
            "currency": self.currency,
            "rate": format_rate(self.rate),
            "source": self.source,
            "valid_on": self.valid_on.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class FxHold:
    """Why no price in this currency can go out today, in plain words."""

    code: str  # MISSING | STALE
    reason: str


@dataclass(frozen=True, slots=True)
class FxQuote:
    """The rate of `currency` in force on `day` (None: none is) and the freshness rule."""

    currency: str
    day: date
    rate: RateUsed | None
    max_age_days: int

    @property
    def hold(self) -> FxHold | None:
        rate = self.rate
        if rate is None:
            return FxHold(
                MISSING,
                f"no {self.currency} rate in force on {self.day}: none has been set for that "
                f"day or before; {how_to_set(self.currency)}",
            )
        age = (self.day - rate.valid_on).days
        if age > self.max_age_days:
            return FxHold(
                STALE,
                f"no {self.currency} rate in force on {self.day}: the newest is "
                f"{format_rate(rate.rate)} ({rate.source}, {rate.valid_on}), older than "
                f"{self.max_age_days} days; {how_to_set(self.currency)}",
            )
        return None

    @property
    def usable(self) -> RateUsed | None:
        return self.rate if self.hold is None else None

    def verdict(self) -> RateUsed | FxHold:
        """The rate to convert at, or why there is none."""
        hold = self.hold
        if hold is not None or self.rate is None:
            return hold or FxHold(MISSING, f"no {self.currency} rate")
        return self.rate

    @property
    def key(self) -> str:
        """What a projection with this quote depends on: another key, another projection.
        A held quote names the day (its words do)."""
        hold = self.hold
        if self.rate is None or hold is not None:
            return f"{self.currency}:{hold.code if hold else ''}:{self.day}"
        rate = self.rate
        return f"{self.currency}:{format_rate(rate.rate)}:{rate.source}:{rate.valid_on}"


def how_to_set(currency: str) -> str:
    return (
        f"set one with `odop-sync fx set {currency} <rate> --source <source> --date <date>` "
        "or POST /v1/fx/rates"
    )


def format_rate(rate: Decimal) -> str:
    """84.120000 → 84.12, 84 → 84.00, 0.0123 → 0.0123: never in exponent form."""
    whole, _, fraction = f"{rate.normalize():f}".partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def to_minor(paise: int, rate: Decimal) -> int:
    """INR paise in the other currency's minor units at `rate` INR per unit, half up:
    ₹1,850.00 at 84.12 → 185000 / 84.12 = 2199.24… → 2199 cents (US$21.99)."""
    return int((Decimal(paise) / rate).to_integral_value(ROUND_HALF_UP))


def currency_problem(currency: str) -> str | None:
    """Why the store cannot take rates for this code, or None."""
    if not CURRENCY_PATTERN.match(currency):
        return "must be an ISO 4217 code: three letters, e.g. USD"
    if currency == INR:
        return "rates are INR per unit of another currency; INR needs none"
    if currency in NOT_TWO_DECIMALS:
        return (
            f"{currency} does not have two decimal places; odop-sync converts only into "
            "currencies with cents (USD, EUR, GBP, AED …)"
        )
    return None


def rate_problem(rate: Decimal) -> str | None:
    if not rate.is_finite() or rate <= 0:
        return "must be a number above 0 (INR per 1 unit, e.g. 84.12)"
    if rate >= MAX_RATE:
        return f"must be below {MAX_RATE:,} (INR per 1 unit)"
    exponent = rate.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        return f"has more than {MAX_DECIMALS} decimal places"
    return None
