"""Money: exact decimal amounts in a currency's minor units.

Where: shared by the validator (precision rule) and the compiler. Amounts in YAML are
read as numbers; :func:`to_decimal` recovers exactly the decimal the user wrote (the
shortest repr of a binary float round-trips the literal for up to 15 significant digits).
"""

from __future__ import annotations

import re
from decimal import Decimal

from loyalsim.currencies import MINOR_UNITS

# The one grammar of a number in a data file (transactions' amounts, the ledger's figures):
# ASCII digits, an optional sign, fraction and exponent; no digit separators ("10_000"), no
# other scripts' digits. RE2-compatible, so Arrow's compute functions use it too.
NUMBER_PATTERN = r"^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
_NUMBER = re.compile(NUMBER_PATTERN, re.ASCII)


def parse_number(text: str) -> Decimal | None:
    """``text`` as an exact decimal if it follows :data:`NUMBER_PATTERN`, else None."""
    return Decimal(text.strip()) if _NUMBER.match(text) else None


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
    """How many decimal places a written amount has (14.99 → 2, 15 → 0, 1.50 → 1).

    Read from the digits, never through ``normalize()``, which overflows the default
    context for exponents like 1e-999999999.
    """
    _, digits, exponent = to_decimal(value).as_tuple()
    if not isinstance(exponent, int):  # infinity or NaN: no decimal places to count
        return 0
    zeros = 0
    while zeros < len(digits) - 1 and digits[len(digits) - 1 - zeros] == 0:
        zeros += 1
    return max(0, -(exponent + zeros)) if any(digits) else 0
