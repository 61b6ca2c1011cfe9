"""Reading transaction files: exact amounts, their boundaries, and where bad values are reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loyalsim.transactions.reader import read_transactions

CASES = [
    # text, minor units, expected minor units (None: rejected as not a number / out of range)
    ("50.00", 2, 5000),
    ("100", 2, 10000),
    ("100.60", 2, 10060),
    ("120.99", 2, 12099),
    ("0.01", 2, 1),
    # Ties at the half cent go to the even cent. Through binary floats ×100 these three come out
    # as 101.4999…, 834.5000…1 and 1007.4999… and round the wrong way (101, 835, 1007).
    ("1.015", 2, 102),
    ("8.345", 2, 834),
    ("10.075", 2, 1008),
    ("2.675", 2, 268),
    ("2.665", 2, 266),
    ("0.125", 2, 12),
    ("0.135", 2, 14),
    ("0.1250001", 2, 13),
    ("0.0049999", 2, 0),
    ("  7.5 ", 2, 750),
    ("+.5", 2, 50),
    ("5.", 2, 500),
    ("1e2", 2, 10000),
    ("2.5E-1", 2, 25),
    ("1234.5", 0, 1234),
    ("1235.5", 0, 1236),
    ("0.0005", 3, 0),
    ("0.0015", 3, 2),
    ("9999999999999.99", 2, 999999999999999),
    ("10000000000000.01", 2, "range"),
    ("1e400", 2, "range"),
    ("abc", 2, "nan"),
    ("", 2, "nan"),
    (".", 2, "nan"),
    ("1.2.3", 2, "nan"),
    ("- 5", 2, "nan"),
    ("5$", 2, "nan"),
    ("1e", 2, "nan"),
    ("nan", 2, "nan"),
    ("inf", 2, "nan"),
]


def _write(tmp_path: Path, amounts: list[str]) -> Path:
    path = tmp_path / "tx.csv"
    lines = ["customer_id,date,amount"] + [f'c{i},2027-01-0{1 + i % 9},"{a}"' for i, a in enumerate(amounts)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("minor_units", [0, 2, 3])
def test_amounts_are_parsed_exactly_and_rounded_half_even(tmp_path: Path, minor_units: int) -> None:
    cases = [c for c in CASES if c[1] == minor_units]
    tx = read_transactions(_write(tmp_path, [c[0] for c in cases]), minor_units=minor_units)
    by_row = dict(zip((tx.row - 2).tolist(), tx.amount.tolist(), strict=True))
    rejected = {e.row - 2: e.message for e in tx.rejected}
    for index, (text, _, want) in enumerate(cases):
        if want == "nan":
            assert rejected.get(index) == (
                "not a number" if text.strip() else "missing amount (the cell is empty)"
            ), text
        elif want == "range":
            assert rejected.get(index) == "amount out of range", text
        else:
            assert by_row.get(index) == want, (text, by_row.get(index), rejected.get(index))


def test_negative_amounts_are_exact_too_and_refused_for_purchases(tmp_path: Path) -> None:
    path = tmp_path / "tx.csv"
    path.write_text(
        "customer_id,date,amount,kind,transaction_id\n"
        "a,2027-01-01,2.675,purchase,t1\na,2027-01-02,-2.675,return,t1\nb,2027-01-02,-0.01,purchase,t2\n"
    )
    tx = read_transactions(path)
    assert tx.amount.tolist() == [268, 268]  # returns keep their magnitude
    assert [(e.row, e.column) for e in tx.rejected] == [(4, "amount")]
    assert "negative amount" in tx.rejected[0].message


def test_parquet_amounts_read_as_numbers_or_text_alike(tmp_path: Path) -> None:
    table = pa.table(
        {"customer_id": ["a", "b", "c"], "date": ["2027-01-01"] * 3, "amount": [12.5, 0.01, None]}
    )
    pq.write_table(table, tmp_path / "tx.parquet")
    tx = read_transactions(tmp_path / "tx.parquet")
    assert sorted(tx.amount.tolist()) == [1, 1250]
    assert [(e.row, e.column, e.message) for e in tx.rejected] == [
        (4, "amount", "missing amount (the cell is empty)")
    ]


def test_the_day_sort_keeps_file_order_within_a_day(tmp_path: Path) -> None:
    path = tmp_path / "tx.csv"
    rows = [
        ("x", "2027-03-02", "1"),
        ("y", "2027-01-05", "2"),
        ("x", "2027-01-05", "3"),
        ("z", "2027-03-02", "4"),
    ]
    path.write_text("customer_id,date,amount\n" + "".join(f"{c},{d},{a}\n" for c, d, a in rows))
    tx = read_transactions(path)
    assert tx.row.tolist() == [3, 4, 2, 5]
    assert np.all(np.diff(tx.day) >= 0)


def test_blank_customer_ids_are_rejected_whatever_the_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "tx.csv"
    ids = ["a", "", "  ", "\t", "\u00a0", " \u00a0 ", "é", " b "]
    path.write_text(
        "customer_id,date,amount\n" + "".join(f'"{c}",2027-01-01,1\n' for c in ids), encoding="utf-8"
    )
    tx = read_transactions(path)
    assert sorted(e.row for e in tx.rejected if e.message == "missing customer id") == [3, 4, 5, 6, 7]
    assert sorted(tx.customer_ids[tx.customer].tolist()) == ["a", "b", "é"]


def test_null_customer_ids_in_parquet_are_missing_ids(tmp_path: Path) -> None:
    table = pa.table(
        {
            "customer_id": pa.array(["a", None, "b", "  "]),
            "date": ["2027-01-01"] * 4,
            "amount": ["1", "2", "3", "4"],
        }
    )
    pq.write_table(table, tmp_path / "tx.parquet")
    tx = read_transactions(tmp_path / "tx.parquet")
    assert [(e.row, e.message) for e in tx.rejected] == [
        (3, "missing customer id"),
        (5, "missing customer id"),
    ]
    assert sorted(tx.customer_ids[tx.customer].tolist()) == ["a", "b"]


def test_rows_with_problems_leave_the_others_in_day_order_with_their_columns(tmp_path: Path) -> None:
    path = tmp_path / "tx.csv"
    rows = [
        ("x1", "2027-03-02", "1"),
        ("y2", "bad", "2"),
        ("x1", "2027-01-05", "3"),
        ("z3", "2027-03-02", "x"),
        ("z3", "2027-01-05", "5"),
        ("y2", "2027-02-01", "6"),
    ]
    path.write_text("customer_id,date,amount\n" + "".join(f"{c},{d},{a}\n" for c, d, a in rows))
    tx = read_transactions(path)
    assert tx.row.tolist() == [4, 6, 7, 2]
    assert tx.customer_ids[tx.customer].tolist() == ["x1", "z3", "y2", "x1"]
    assert tx.amount.tolist() == [300, 500, 600, 100]
    assert [str(np.datetime64(int(d), "D")) for d in tx.day] == [
        "2027-01-05",
        "2027-01-05",
        "2027-02-01",
        "2027-03-02",
    ]


DATES = [
    # text, (day as ISO date, second of day) or the start of the rejection message
    ("2027-03-01", ("2027-03-01", 0)),
    ("20270301", ("2027-03-01", 0)),
    (" 2027-03-01 ", ("2027-03-01", 0)),
    ("2027-03-01T10:30:15", ("2027-03-01", 37815)),
    ("2027-03-01 10:30:15", ("2027-03-01", 37815)),
    ("2027-03-01T10:30", ("2027-03-01", 37800)),
    ("2024-02-29", ("2024-02-29", 0)),
    ("1900-01-01", ("1900-01-01", 0)),
    ("2199-12-31", ("2199-12-31", 0)),
    # Arrow's strptime alone would roll these over (30 Feb → 2 March) or read '27' as the year 27.
    ("2027-02-30", "not a date"),
    ("2027-02-29", "not a date"),
    ("2027-02-30T10:00:00", "not a date"),
    ("2027-1-5", "not a date"),
    ("27-01-01", "not a date"),
    ("2027-13-01", "not a date"),
    ("2027-01-01T25:00:00", "not a date"),
    ("2027-01-01x", "not a date"),
    ("", "missing date"),
    ("1899-12-31", "date out of range"),
    ("2200-01-01", "date out of range"),
    ("0000-01-01", "date out of range"),
]


@pytest.mark.parametrize("mixed", [False, True])
def test_dates_are_read_exactly_as_written_or_rejected(tmp_path: Path, mixed: bool) -> None:
    # Without a date-time among them, plain dates take the fast path: both paths must agree.
    cases = [c for c in DATES if mixed or ("T" not in c[0] and ":" not in c[0])]
    path = tmp_path / "tx.csv"
    path.write_text(
        "customer_id,date,amount\n" + "".join(f"c{i},{text},1\n" for i, (text, _) in enumerate(cases))
    )
    tx = read_transactions(path)
    read = {
        int(r) - 2: (str(np.datetime64(int(d), "D")), int(s))
        for r, d, s in zip(tx.row, tx.day, tx.second, strict=True)
    }
    rejected = {e.row - 2: e.message for e in tx.rejected}
    for i, (text, expected) in enumerate(cases):
        if isinstance(expected, tuple):
            assert read.get(i) == expected, text
        else:
            assert rejected.get(i, "").startswith(expected), (text, rejected.get(i))


def test_a_header_naming_a_column_twice_is_refused_with_its_positions(tmp_path: Path) -> None:
    from loyalsim.errors import InputError

    path = tmp_path / "tx.csv"
    path.write_text("customer_id,date,amount,amount\na,2027-01-01,10,11\n")
    with pytest.raises(InputError, match=r"'amount' \(columns 3, 4\)"):
        read_transactions(path)


def test_parquet_timestamps_are_read_at_their_own_wall_clock_time(tmp_path: Path) -> None:
    import datetime as dt

    new_york = dt.timezone(dt.timedelta(hours=-5))
    stamps = [dt.datetime(2027, 1, 1, 10, 0, 0, 250_000), dt.datetime(2027, 1, 2, 23, 30, 5)]
    for unit, tz, values in (
        ("ms", None, stamps),
        ("us", "America/New_York", [s.replace(tzinfo=new_york) for s in stamps]),
    ):
        path = tmp_path / f"tx-{unit}.parquet"
        pq.write_table(
            pa.table(
                {
                    "customer_id": ["a", "b"],
                    "date": pa.array(values, pa.timestamp(unit, tz=tz)),
                    "amount": [10.5, 20.25],
                }
            ),
            path,
        )
        tx = read_transactions(path)
        assert not tx.rejected
        assert [str(np.datetime64(int(d), "D")) for d in tx.day] == ["2027-01-01", "2027-01-02"]
        assert tx.second.tolist() == [36_000, 84_605]


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("customer_id,date,amount\na,2027-01-01,10\nd,2027-01-01,1,2\n", 3),  # a field too many
        (
            'customer_id,date,amount\na,2027-01-01,10\nb,2027-01-01,10\n"c,2027-01-01,10\nd,2027-01-01,1\n',
            4,
        ),  # open quote
    ],
)
def test_a_csv_that_does_not_parse_is_reported_at_its_row(tmp_path: Path, text: str, row: int) -> None:
    from loyalsim.errors import InputError

    path = tmp_path / "tx.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=rf"tx.csv: row {row}: cannot read as CSV: Expected 3 columns"):
        read_transactions(path)
