"""Amounts at their bounds, for every currency exponent ISO 4217 uses (0, 2, 3 and 4 decimals)."""

from __future__ import annotations

import numpy as np
import pytest

from loyalsim.transactions.values import MAX_MINOR, NOT_A_NUMBER, OK, TOO_BIG, decimal_value


def read(text: str, minor_units: int) -> tuple[int, int]:
    raw = np.frombuffer(text.encode(), dtype=np.uint8)
    value, status = decimal_value(raw, 0, raw.size, minor_units, MAX_MINOR)
    return int(value), int(status)


@pytest.mark.parametrize("minor_units", [0, 2, 3, 4])  # JPY, USD, BHD/KWD, CLF
@pytest.mark.parametrize("sign", ["", "-", "+"])
def test_the_largest_amount_is_read_and_one_minor_unit_more_is_refused(minor_units: int, sign: str) -> None:
    whole, fraction = divmod(MAX_MINOR, 10**minor_units)
    text = f"{whole}.{fraction:0{minor_units}d}" if minor_units else str(whole)
    expected = -MAX_MINOR if sign == "-" else MAX_MINOR
    assert read(sign + text, minor_units) == (expected, OK)
    over = MAX_MINOR + 1
    whole, fraction = divmod(over, 10**minor_units)
    text = f"{whole}.{fraction:0{minor_units}d}" if minor_units else str(whole)
    assert read(sign + text, minor_units)[1] == TOO_BIG


@pytest.mark.parametrize("minor_units", [0, 2, 3, 4])
@pytest.mark.parametrize("digits", [16, 17, 19, 20, 40])
def test_huge_integer_parts_are_too_big_never_wrapped(minor_units: int, digits: int) -> None:
    # With 3 decimals, 9999999999999999 (16 digits) used to wrap past 2^63 while padding the
    # fraction: -9999999999999999 earned 9,223,372,036,854,625 points, +9999999999999999 read
    # as negative.
    for sign in ("", "-"):
        value, status = read(sign + "9" * digits, minor_units)
        assert status == TOO_BIG, (sign, digits, value)


def test_not_numbers_stay_not_numbers() -> None:
    assert read("12a", 2)[1] == NOT_A_NUMBER and read("", 2)[1] == NOT_A_NUMBER
