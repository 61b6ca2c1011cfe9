"""Exact arithmetic for points and money on numpy integer arrays.

Where: used by every compiled mechanic. Amounts are integer minor units (cents); rates
and multipliers are exact ratios of integers taken from the decimals the user wrote;
points are integers in units of 10**-decimals. Rounding happens once, at the end of a
computation, with the named mode — never through binary floating point.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from loyalsim.money import to_decimal

IntArray = npt.NDArray[np.int64]

ROUNDING_MODES = ("floor_amount", "floor_points", "half_up", "half_even", "ceil_points", "exact")


@dataclass(frozen=True)
class Ratio:
    """An exact non-negative rational number p/q, built from a written decimal."""

    num: int
    den: int = 1

    @classmethod
    def of(cls, value: int | float | str | Decimal) -> Ratio:
        fraction = Fraction(to_decimal(value))
        return cls(fraction.numerator, fraction.denominator)

    def __mul__(self, other: Ratio) -> Ratio:
        fraction = Fraction(self.num, self.den) * Fraction(other.num, other.den)
        return Ratio(fraction.numerator, fraction.denominator)

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.num) / Decimal(self.den)

    def __float__(self) -> float:
        return self.num / self.den

    def __str__(self) -> str:
        return format(self.decimal.normalize(), "f")


ONE = Ratio(1, 1)


def money_minor(value: int | float | str | Decimal, minor_units: int) -> int:
    """A written amount in minor units (14.99 → 1499), exact; raises if it is finer."""
    scaled = to_decimal(value) * (10**minor_units)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {minor_units} decimals")
    return int(scaled)


def rounding_code(mode: str) -> int:
    """The mode's number in :data:`ROUNDING_MODES`, as compiled loops take it."""
    try:
        return ROUNDING_MODES.index(mode)
    except ValueError:
        raise ValueError(f"unknown rounding mode {mode!r}") from None


def divide(num: IntArray, den: int | IntArray, mode: str) -> IntArray:
    """Round num/den (den > 0) to an integer with a named mode, exactly, element-wise."""
    from loyalsim.compile.rounding import divide_rounded  # compiled: keeps `validate` free of numba

    code = rounding_code(mode)
    values = np.asarray(num, dtype=np.int64)
    dens = np.asarray(den, dtype=np.int64)
    shape = np.broadcast_shapes(values.shape, dens.shape)
    flat = np.ascontiguousarray(np.broadcast_to(values, shape)).reshape(-1)
    by = (
        dens.reshape(-1) if dens.size == 1 else np.ascontiguousarray(np.broadcast_to(dens, shape)).reshape(-1)
    )
    result: IntArray = divide_rounded(flat, by, code).reshape(shape)
    return result


def round_scalar(num: int, den: int, mode: str) -> int:
    """The scalar form of :func:`divide`, for explanations and tests."""
    return int(divide(np.array([num], dtype=np.int64), den, mode)[0])
