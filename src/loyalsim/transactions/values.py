"""One value of a transaction file, from its bytes: an amount in minor units, a plain date.

Where: the transaction reader's compiled passes (``reader`` over Arrow text columns, and
``plain_csv`` straight over a file's bytes) call these per value, so both read a value
alike.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from loyalsim.compiled import kernel

OK, NOT_A_NUMBER, TOO_BIG, FLOAT = range(4)  # an amount's status
MAX_MINOR = 10**15  # the largest amount, in minor units, that a row may carry


@kernel
def decimal_value(
    text: npt.NDArray[np.uint8], i: int, end: int, minor_units: int, limit: int
) -> tuple[int, int]:
    """The amount in ``text[i:end]`` as minor units, and its status.

    Shape: [blanks][sign](digits[.digits]|.digits)[blanks]. Status: OK, NOT_A_NUMBER,
    TOO_BIG (beyond ``limit`` minor units) or FLOAT (an exponent: left to a float path).
    Digits past the minor unit round half-even.
    """
    while i < end and (text[i] == 32 or 9 <= text[i] <= 13):
        i += 1
    while end > i and (text[end - 1] == 32 or 9 <= text[end - 1] <= 13):
        end -= 1
    negative = False
    if i < end and (text[i] == 45 or text[i] == 43):  # '-' or '+'
        negative = text[i] == 45
        i += 1
    value = 0
    digits = 0
    big = False
    while i < end and 48 <= text[i] <= 57:
        if value > limit:
            big = True
        else:
            value = value * 10 + (text[i] - 48)
        digits += 1
        i += 1
    kept = 0  # fraction digits taken into value
    first_dropped = -1  # the first fraction digit past the minor unit
    rest_nonzero = False  # any nonzero digit after that one
    if i < end and text[i] == 46:  # '.'
        i += 1
        while i < end and 48 <= text[i] <= 57:
            digit = text[i] - 48
            if kept < minor_units:
                if value > limit:
                    big = True
                else:
                    value = value * 10 + digit
                kept += 1
            elif first_dropped < 0:
                first_dropped = digit
            elif digit:
                rest_nonzero = True
            digits += 1
            i += 1
    if digits == 0:
        return 0, NOT_A_NUMBER
    if i < end and (text[i] == 101 or text[i] == 69):  # 'e' or 'E'
        return 0, FLOAT
    if i != end:
        return 0, NOT_A_NUMBER
    while kept < minor_units:  # bounded at each step: padding a huge integer part must not wrap
        if value > limit:
            big = True
            break
        value *= 10
        kept += 1
    if first_dropped > 5 or (first_dropped == 5 and (rest_nonzero or value % 2 == 1)):
        value += 1
    if big or value > limit:
        return 0, TOO_BIG
    return (-value if negative else value), OK


@kernel
def iso_day(text: npt.NDArray[np.uint8], i: int, end: int, first: int, last: int) -> int:
    """The day number (days since 1970-01-01) of a date written exactly ``YYYY-MM-DD`` in
    ``text[i:end]``, if it is a real date from day ``first`` to day ``last``; else -2**62."""
    if end - i != 10 or text[i + 4] != 45 or text[i + 7] != 45:
        return -(2**62)
    for k in (0, 1, 2, 3, 5, 6, 8, 9):
        if text[i + k] < 48 or text[i + k] > 57:
            return -(2**62)
    year = (text[i] - 48) * 1000 + (text[i + 1] - 48) * 100 + (text[i + 2] - 48) * 10 + (text[i + 3] - 48)
    month = (text[i + 5] - 48) * 10 + (text[i + 6] - 48)
    day = (text[i + 8] - 48) * 10 + (text[i + 9] - 48)
    if month < 1 or month > 12 or day < 1:
        return -(2**62)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    length = 29 if month == 2 and leap else _MONTH_DAYS[month - 1]
    if day > length:
        return -(2**62)
    # Days from the civil date (H. Hinnant's algorithm; years from March, so leap days come last).
    y = year - 1 if month <= 2 else year
    era = y // 400
    of_era = y - era * 400
    of_year = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    of_cycle = of_era * 365 + of_era // 4 - of_era // 100 + of_year
    result = era * 146097 + of_cycle - 719468
    if result < first or result > last:
        return -(2**62)
    return int(result)


_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
