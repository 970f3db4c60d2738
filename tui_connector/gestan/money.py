"""Exact money arithmetic: everything is Decimal, rounded to the cent half up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_decimal(value: object) -> Decimal:
    """Turn a shop or user value into a Decimal; floats are refused (they are not exact)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (bool, float)):
        raise TypeError(f"montant inexact refusé {value!r}: passez un str ou un Decimal")
    if isinstance(value, int):
        return Decimal(value)
    if value is None or value == "":
        return Decimal(0)
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"pas un nombre: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"pas un nombre fini: {value!r}")
    return result


def cents(value: object) -> Decimal:
    """Round to the cent, half up (French invoicing practice)."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_fr(amount: Decimal) -> str:
    """1234.5 -> '1 234,50' for screens and reports."""
    text = f"{cents(amount):,.2f}"
    return text.replace(",", " ").replace(".", ",")
