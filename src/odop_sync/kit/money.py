"""INR amounts: integer paise inside the service, decimal rupees at the edges."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


class MoneyError(ValueError):
    pass


def rupees_to_paise(value: object) -> int:
    """Parse '1,250.50', 1250.5 or Decimal into paise; at most two decimals, never negative."""
    if isinstance(value, bool) or value is None:
        raise MoneyError("must be an amount in rupees")
    if isinstance(value, float):
        text = repr(value)
    else:
        text = str(value).strip().replace(",", "").replace("₹", "").strip()
        if text.lower().startswith("rs."):
            text = text[3:].strip()
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        raise MoneyError("must be an amount in rupees, like 1250 or 1250.50") from None
    if not amount.is_finite():
        raise MoneyError("must be a finite amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise MoneyError("has more than 2 decimal places")
    if amount < 0:
        raise MoneyError("must not be negative")
    paise = int((amount * 100).to_integral_value(ROUND_HALF_UP))
    if paise > 10**13:
        raise MoneyError("is too large")
    return paise


def paise_to_rupees(paise: int) -> Decimal:
    return (Decimal(paise) / 100).quantize(Decimal("0.01"))
