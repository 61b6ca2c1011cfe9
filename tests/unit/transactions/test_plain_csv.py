"""The plain-CSV reader: a plain file reads exactly as Arrow's reader reads it; anything else
is left to Arrow's reader (and so reported at its row and column as before)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalsim.transactions import plain_csv, reader
from loyalsim.transactions.plain_csv import header_names, read_plain_csv
from loyalsim.transactions.reader import OPTIONAL, Transactions, read_transactions

LOW, HIGH = (int(np.datetime64(d, "D").astype(np.int64)) for d in (reader.FIRST_DATE, reader.LAST_DATE))


def both_ways(
    path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> tuple[Transactions, Transactions]:
    """The file read by the plain reader (in one pass, and in two halves at once, read and
    sorted: the result must be the same) and by Arrow's reader (sorted in one pass and in two
    halves alike)."""
    plain = read_transactions(path, **options)
    with monkeypatch.context() as patched:
        patched.setattr(plain_csv, "SPLIT_FROM", 1)
        assert_same(read_transactions(path, **options), plain)
        patched.setattr(reader, "SORT_SPLIT_FROM", 1)
        assert_same(read_transactions(path, **options), plain)
    with monkeypatch.context() as patched:
        patched.setattr(reader, "_read_plain", lambda *args: None)
        arrow = read_transactions(path, **options)
        patched.setattr(reader, "SORT_SPLIT_FROM", 1)
        assert_same(read_transactions(path, **options), arrow)
    return plain, arrow


def assert_same(a: Transactions, b: Transactions) -> None:
    for f in dataclasses.fields(Transactions):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            assert x is not None and y is not None, f.name
            assert np.asarray(x).tolist() == np.asarray(y).tolist(), f.name
        else:
            assert x == y, f.name


def plain_read(path: Path) -> Any:
    names = header_names(path)
    assert names is not None
    return read_plain_csv(path, names, OPTIONAL, 2, LOW, HIGH)


CLEAN_IDS = st.one_of(
    st.text("abc123", min_size=1, max_size=4), st.sampled_from(["c0001", "c0002", "c0100", "x-y"])
)
CLEAN_DATES = st.dates(
    min_value=np.datetime64("2026-12-01").astype(object), max_value=np.datetime64("2027-03-31").astype(object)
).map(str)
CLEAN_AMOUNTS = st.one_of(
    st.integers(0, 10**6).map(lambda c: f"{c / 100:.2f}"),
    st.sampled_from(["1.015", "0", "7.", ".5", "12.3399999", "99999999999999"]),
)
DIRTY_IDS = st.one_of(CLEAN_IDS, st.sampled_from(["é", " x", "", "y "]))
DIRTY_DATES = st.one_of(
    CLEAN_DATES,
    st.sampled_from(
        [
            "2027-02-30",
            "2027-02-29",
            "2027-04-31",
            "2027-13-01",
            "20270105",
            "2027-01-05T10:00:00",
            "1899-12-31",
            "2200-01-01",
            "x",
            "",
        ]
    ),
)
DIRTY_AMOUNTS = st.one_of(
    CLEAN_AMOUNTS, st.sampled_from([" 3.25 ", "-1.00", "1e2", "abc", "", "+2", "1.2.3", "10000000000000.01"])
)


def rows_of(ids: Any, dates: Any, amounts: Any) -> Any:
    return st.lists(
        st.tuples(
            ids,
            dates,
            amounts,
            st.sampled_from(["", "t1", "t2"]),
            st.sampled_from(["", "food", "toys"]),
            st.sampled_from(["purchase", "", "PURCHASE"]),
            st.sampled_from(["", "2", "x"]),
        ),
        min_size=1,
        max_size=25,
    )


# Half the files are plain (the plain reader reads them), half have one dirty column.
rows = st.one_of(
    rows_of(CLEAN_IDS, CLEAN_DATES, CLEAN_AMOUNTS),
    rows_of(DIRTY_IDS, CLEAN_DATES, CLEAN_AMOUNTS),
    rows_of(CLEAN_IDS, DIRTY_DATES, CLEAN_AMOUNTS),
    rows_of(CLEAN_IDS, CLEAN_DATES, DIRTY_AMOUNTS),
    rows_of(CLEAN_IDS, CLEAN_DATES, CLEAN_AMOUNTS),
)


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows, st.booleans(), st.booleans(), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_every_file_reads_as_arrows_reader_reads_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    data: list[tuple[str, ...]],
    quote: bool,
    extras: bool,
    newline: str,
    final_newline: bool,
) -> None:
    header = ["customer_id", "date", "amount"] + (
        ["transaction_id", "category", "kind", "quantity", "note"] if extras else []
    )
    cells = [list(row[:3]) + ([*row[3:], "n"] if extras else []) for row in data]
    wrap = (lambda v: f'"{v}"') if quote else (lambda v: v)
    text = newline.join(",".join(wrap(v) for v in line) for line in [header, *cells])
    path = tmp_path / "tx.csv"
    path.write_bytes((text + (newline if final_newline else "")).encode("utf-8"))
    plain, arrow = both_ways(path, monkeypatch)
    assert_same(plain, arrow)
    plain_shapes = all(
        r[0] == r[0].strip()
        and r[0].isascii()
        and r[0]
        and re.fullmatch(r"[0-9]*\.?[0-9]*", r[2])
        and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", r[1])
        for r in data
    )
    if not arrow.rejected and not extras and plain_shapes:
        assert plain_read(path) is not None  # a file with nothing to reject or trim is read the plain way


def test_a_clean_file_takes_the_plain_way_and_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tx.csv"
    path.write_text(
        '"customer_id","date","cds","amount","category"\n'
        'c02,2027-03-01,1,12.345,food\nc01,2027-01-31,2,0.01,\n"c10","2024-02-29",3,"100",toys\n'
    )
    got = plain_read(path)
    assert got is not None
    assert got.customer_ids.tolist() == ["c01", "c02", "c10"]
    assert got.customer.tolist() == [1, 0, 2]
    assert got.amount.tolist() == [1234, 1, 10000]  # 12.345 rounds half-even to 12.34
    assert [str(np.datetime64(int(d), "D")) for d in got.day] == ["2027-03-01", "2027-01-31", "2024-02-29"]
    assert got.others["category"].to_pylist() == ["food", "", "toys"]
    plain, arrow = both_ways(path, monkeypatch)
    assert_same(plain, arrow)


@pytest.mark.parametrize(
    "date", ["2024-02-29", "2000-02-29", "1900-01-01", "2199-12-31", "2027-12-31", "1970-01-01"]
)
def test_every_real_date_in_range_reads_the_plain_way(tmp_path: Path, date: str) -> None:
    path = tmp_path / "tx.csv"
    path.write_text(f"customer_id,date,amount\na,{date},1\n")
    got = plain_read(path)
    assert got is not None and str(np.datetime64(int(got.day[0]), "D")) == date


def test_ids_of_several_widths_are_coded_too(tmp_path: Path) -> None:
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,date,amount\n18,2027-01-01,1\n4,2027-01-02,2\n18,2027-01-03,3\n")
    got = plain_read(path)
    assert got is not None and got.customer_ids.tolist() == ["18", "4"] and got.customer.tolist() == [0, 1, 0]


@pytest.mark.parametrize(
    "text",
    [
        "customer_id,date,amount\na,2027-01-01,1\n\nb,2027-01-02,2\n",  # a blank line
        'customer_id,date,amount\na,2027-01-01,"1,5"\n',  # a comma inside a quoted value
        'customer_id,date,amount\n"a""b",2027-01-01,1\n',  # a doubled quote
        "customer_id,date,amount\na,2027-01-01,1,9\n",  # a field too many
        "customer_id,date,amount\na,2027-01-01\n",  # a field too few
        "customer_id,date,amount\na,2027-1-01,1\n",  # not YYYY-MM-DD
        "customer_id,date,amount\na,2027-02-30,1\n",  # not a date
        "customer_id,date,amount\na,2027-02-29,1\n",  # not a leap year
        "customer_id,date,amount\na,2100-02-29,1\n",  # not a leap year either (a century)
        "customer_id,date,amount\na,2027-04-31,1\n",
        "customer_id,date,amount\na,2027-13-01,1\n",
        "customer_id,date,amount\na,2027-00-10,1\n",
        "customer_id,date,amount\na,2027-01-00,1\n",
        "customer_id,date,amount\na,1899-12-31,1\n",  # out of range
        "customer_id,date,amount\na,2200-01-01,1\n",
        "customer_id,date,amount\na,2027-01-01,-1\n",  # negative
        "customer_id,date,amount\n a,2027-01-01,1\n",  # an id to trim
        "\ufeffcustomer_id,date,amount\na,2027-01-01,1\n",  # a byte-order mark
        "customer_id,date,amount\na,2027-01-01,1\rb,2027-01-02,1\n",  # a lone carriage return
    ],
)
def test_anything_not_plain_is_left_to_arrow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = tmp_path / "tx.csv"
    path.write_bytes(text.encode("utf-8"))
    names = header_names(path)
    assert names is None or read_plain_csv(path, names, OPTIONAL, 2, LOW, HIGH) is None
    try:
        plain, arrow = both_ways(path, monkeypatch)
    except Exception as error:  # the same error either way (a CSV Arrow cannot parse)
        with pytest.raises(type(error)):
            monkeypatch.setattr(reader, "_read_plain", lambda *args: None)
            read_transactions(path)
        return
    assert_same(plain, arrow)


def test_header_problems_are_reported_as_before(tmp_path: Path) -> None:
    from loyalsim.errors import InputError

    path = tmp_path / "tx.csv"
    path.write_text("customer_id,day,amount\na,2027-01-01,1\n")
    with pytest.raises(InputError, match="missing column"):
        read_transactions(path)
    path.write_text("customer_id,date,amount,amount\na,2027-01-01,1,2\n")
    with pytest.raises(InputError, match="more than once"):
        read_transactions(path)


@pytest.mark.parametrize("split", [False, True])
def test_the_shortest_rows_fit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, split: bool) -> None:
    # Room is made for the shortest plain rows: a one-byte id, a date, a one-digit amount, the
    # other fields empty (20 bytes with eight columns), with and without a final line break.
    header = "customer_id,date,amount,transaction_id,category,channel,kind,quantity\n"
    path = tmp_path / "tx.csv"
    path.write_text(header + "a,2027-01-01,1,,,,,\n" * 999 + "b,2027-01-02,2,,,,,")
    if split:
        monkeypatch.setattr(plain_csv, "SPLIT_FROM", 1)
    got = plain_read(path)
    assert got is not None and len(got) == 1000 and got.amount.sum() == 999 * 100 + 200
    plain, arrow = both_ways(path, monkeypatch)
    assert_same(plain, arrow)


def test_text_must_be_utf8_as_for_arrows_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tx.csv"
    # Valid UTF-8 inside ids and categories: read the plain way, as Arrow reads it.
    path.write_bytes(
        "customer_id,date,amount,category\naéb,2027-01-01,1,café\nxyz,2027-01-02,2,thé\n".encode()
    )
    assert plain_read(path) is not None
    plain, arrow = both_ways(path, monkeypatch)
    assert_same(plain, arrow)
    # Bytes that are not UTF-8 (in an id, a category or an ignored column): left to Arrow's reader.
    for bad in (b"a\xe9b,2027-01-01,1,x,n\n", b"ab,2027-01-01,1,caf\xe9,n\n", b"ab,2027-01-01,1,x,n\xe9\n"):
        path.write_bytes(b"customer_id,date,amount,category,note\n" + bad)
        assert plain_read(path) is None


class _TruncatedWhileRead:
    """A file handle whose file another process cuts short after the first block is read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = path.open("rb", buffering=0)
        self.calls = 0

    def fileno(self) -> int:
        return self.handle.fileno()

    def readinto(self, view: Any) -> int:
        self.calls += 1
        if self.calls == 2:
            import os

            os.truncate(self.path, 100)
        return self.handle.readinto(view[: 1 << 16])


def test_a_file_cut_short_while_read_is_refused_not_a_crash(tmp_path: Path) -> None:
    # The reader used to map the file: a truncation mid-scan killed the process with SIGBUS.
    path = tmp_path / "t.csv"
    path.write_text("customer_id,date,amount\n" + "c1,2027-01-05,12.50\n" * 20_000)
    handle = _TruncatedWhileRead(path)
    try:
        with pytest.raises(plain_csv.InputError, match="the file changed while it was being read"):
            plain_csv.file_bytes(handle, path)
    finally:
        handle.handle.close()
    with path.open("rb", buffering=0) as whole:  # the same file, left alone, reads whole
        buffer = plain_csv.file_bytes(whole, path)
    assert buffer is not None and bytes(buffer[:100]) == path.read_bytes()[:100]


def test_a_bad_byte_is_placed_in_its_row_and_column_across_read_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalsim.transactions import sniff

    path = tmp_path / "t.csv"
    path.write_bytes(b"customer_id,date,amount\nc1,2027-01-05,12.50\nc2,2027-01-06,3\xff.00\n")
    for chunk in (7, 8, 1 << 24):  # the row spans blocks, and the bad byte starts one
        monkeypatch.setattr(sniff, "_CHUNK", chunk)
        message = sniff.locate_not_utf8(path)
        assert message is not None and message.startswith("row 3, column 'amount': not UTF-8 text (byte 0xff")
        assert "the row starts 'c2,2027-01-06,3" in message
