"""The one implementation of the language's rounding modes, compiled.

Where: :func:`loyalsim.compile.exact.divide` (every mechanic's numpy-facing rounding) and
the compiled earn loop (:mod:`loyalsim.compile.earn_tables`) both call :func:`round_div`,
so a rounding rule is written once. Modes are numbered as in
:data:`loyalsim.compile.exact.ROUNDING_MODES`: 0 floor_amount and 1 floor_points (both
floor here: floor_amount's truncation of the amount happens before), 2 half_up,
3 half_even, 4 ceil_points, 5 exact (half-even at the points' decimals).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from loyalsim.compiled import kernel

IntArray = npt.NDArray[np.int64]


@kernel
def round_div(num: int, den: int, mode: int) -> int:
    """num/den (den > 0) rounded to an integer with mode number ``mode``, exactly."""
    quotient = num // den  # floor division, as Python's (and numpy's) for negative numerators
    remainder = num - quotient * den
    if mode <= 1:
        return quotient
    if mode == 4:
        return quotient + 1 if remainder > 0 else quotient
    twice = 2 * remainder
    if mode == 2:
        return quotient + 1 if twice >= den else quotient
    if twice > den or (twice == den and quotient % 2 == 1):
        return quotient + 1
    return quotient


@kernel
def divide_rounded(num: IntArray, den: IntArray, mode: int) -> IntArray:
    """Element-wise :func:`round_div`; ``den`` holds one denominator for all or one per element."""
    out = np.empty(num.size, dtype=np.int64)
    shared = den.size == 1
    for i in range(num.size):
        out[i] = round_div(num[i], den[0] if shared else den[i], mode)
    return out
