"""Text columns as codes: every way of coding gives the codes and table of a plain reference."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import loyalsim.transactions.codes as codes_module
from loyalsim.transactions.codes import _encode_dense, _encode_packed, encode


def reference(values: list[str | None], empty_is_missing: bool) -> tuple[list[int], list[str]]:
    """Trim (as Arrow does), sort the distinct values, code each by its rank."""
    trimmed = pc.utf8_trim_whitespace(pa.array([v or "" for v in values], pa.string())).to_pylist()
    table = sorted(set(trimmed))
    codes = [table.index(t) for t in trimmed]
    if empty_is_missing and table and table[0] == "":
        return [c - 1 for c in codes], table[1:]
    return codes, table


def chunked(values: list[str | None], cuts: list[int]) -> pa.ChunkedArray:
    bounds = sorted({0, len(values), *(c % (len(values) + 1) for c in cuts)})
    return pa.chunked_array(
        [pa.array(values[a:b], pa.string()) for a, b in itertools.pairwise(bounds)]
        or [pa.array([], pa.string())],
        type=pa.string(),
    )


DIGITS = st.text("0123456789", min_size=4, max_size=4)
shapes = st.one_of(
    st.lists(DIGITS.map(lambda d: "c" + d), min_size=1, max_size=60),  # prefix and digits: dense
    st.lists(st.text("abcXYZ09-_", min_size=5, max_size=5), min_size=1, max_size=60),  # one width
    st.lists(st.text("ab", min_size=12, max_size=12), min_size=1, max_size=60),  # one width, over 8 bytes
    st.lists(st.text(" \tab1é\u00a0", max_size=6), min_size=1, max_size=60),  # blanks, Unicode, widths
    st.lists(st.sampled_from(["", "x", " x", "x ", "é", "\u3000y", None]), min_size=1, max_size=30),
)


@settings(max_examples=150, deadline=None)
@given(shapes, st.lists(st.integers(0, 100), max_size=3), st.booleans(), st.booleans(), st.booleans())
def test_codes_and_table_equal_the_reference(
    values: list[str | None], cuts: list[int], empty_is_missing: bool, some_rows: bool, halves: bool
) -> None:
    """Also with the dense way's passes cut in halves on two threads (as from a million values)."""
    column = chunked(values, cuts)
    rows = np.arange(0, len(values), 2) if some_rows else None
    split_from = codes_module.SPLIT_FROM
    codes_module.SPLIT_FROM = 2 if halves else split_from
    try:
        codes, table = encode(column, rows, empty_is_missing=empty_is_missing)
    finally:
        codes_module.SPLIT_FROM = split_from
    want_codes, want_table = reference(values, empty_is_missing)
    if rows is not None:
        want_codes = [want_codes[i] for i in rows]
    assert table.tolist() == want_table
    assert codes.tolist() == want_codes


@pytest.mark.parametrize(
    "values",
    [
        ["c0473188", "c0000001", "c0473188", "c9999999"],
        ["00012345", "00012344", "99999999"],
        ["CUST-000123-EU", "CUST-000007-US", "CUST-000123-EU"],  # longer than 8 bytes: dense still applies
    ],
)
def test_ids_of_one_shape_take_the_dense_way(values: list[str]) -> None:
    dense = _encode_dense(pa.chunked_array([pa.array(values[:2]), pa.array(values[2:])]))
    assert dense is not None
    codes, table = dense
    assert table.tolist() == sorted(set(values))
    assert [table[c] for c in codes] == values


def test_the_dense_way_steps_aside_where_it_cannot_apply() -> None:
    assert _encode_dense(pa.chunked_array([pa.array(["a1", "b22"])])) is None  # two widths
    assert _encode_dense(pa.chunked_array([pa.array([" a1", "b22"])])) is None  # blanks to trim
    assert _encode_dense(pa.chunked_array([pa.array(["\u00a0a", "bb"])])) is None  # maybe Unicode blank
    assert _encode_dense(pa.chunked_array([pa.array(["a", None])])) is None  # null
    # Random 8-byte ids: too many possible keys for a table of a few slots a row, so the packed way.
    rng = np.random.default_rng(1)
    ids = ["".join(rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 8)) for _ in range(3000)]
    assert _encode_dense(pa.chunked_array([pa.array(ids)])) is None
    packed = _encode_packed(pa.array(ids), None)
    assert packed is not None and packed[1].tolist() == sorted(set(ids))
