"""Money: exact decimal amounts in a currency's minor units.

Where: shared by the validator (precision rule) and the compiler. Amounts in YAML are
read as numbers; :func:`to_decimal` recovers exactly the decimal the user wrote (the
shortest repr of a binary float round-trips the literal for up to 15 significant digits).
"""

from __future__ import annotations

from decimal import Decimal

from loyalsim.currencies import MINOR_UNITS


def minor_units(currency: str) -> int:
    """Decimal places of the currency's minor unit, from ISO 4217 (USD 2, JPY 0, KWD 3, CLF 4).

    Codes outside the standard fall back to 2; validation (LS243) refuses them first.
    """
    return MINOR_UNITS.get(currency, 2)


def to_decimal(value: int | float | str | Decimal) -> Decimal:
    """The exact decimal a YAML number was written as (never the binary float's expansion)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def decimals_of(value: int | float | Decimal) -> int:
    """How many decimal places a written amount has (14.99 → 2, 15 → 0, 1.50 → 1)."""
    exponent = to_decimal(value).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
