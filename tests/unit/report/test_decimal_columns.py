"""Exact decimal columns for money and fractional points, at their boundaries."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loyalsim.report.earn_output import _scaled


@pytest.mark.parametrize("decimals", [1, 2, 3, 6])
def test_units_become_the_same_decimal_whatever_their_sign_and_size(decimals: int, tmp_path: Path) -> None:
    top = 10**18 - 1  # the largest figure an 18-digit decimal holds
    units = np.array([0, 1, -1, 1999, -1999, top, -top, 2**31, -(2**31)], dtype=np.int64)
    column = _scaled(units, decimals)
    assert column.type == pa.decimal128(18, decimals)
    expected = [Decimal(int(u)).scaleb(-decimals) for u in units]
    assert column.to_pylist() == expected
    # Read back through Parquet as a user would.
    pq.write_table(pa.table({"x": column}), tmp_path / "x.parquet")
    assert pq.read_table(tmp_path / "x.parquet").column("x").to_pylist() == expected


def test_whole_points_stay_integers_and_empty_columns_work() -> None:
    assert _scaled(np.array([5, -5]), 0).to_pylist() == [5, -5]
    assert _scaled(np.array([], dtype=np.int64), 2).to_pylist() == []


def test_a_figure_past_eighteen_digits_is_refused_not_wrapped() -> None:
    with pytest.raises(ValueError, match="more than 18 digits"):
        _scaled(np.array([10**18]), 2)
