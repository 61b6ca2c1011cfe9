"""Money: exact decimal amounts in a currency's minor units.

Where: shared by the validator (precision rule) and the compiler. Amounts in YAML are
read as numbers; :func:`to_decimal` recovers exactly the decimal the user wrote (the
shortest repr of a binary float round-trips the literal for up to 15 significant digits).
"""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 currencies whose minor unit is not 1/100 (the others use 2 decimals).
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}


def minor_units(currency: str) -> int:
    """Decimal places of the currency's minor unit (2 unless ISO 4217 says otherwise)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


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
