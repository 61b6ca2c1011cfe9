"""Transaction files and streams that are not what they seem: a located message and exit 2, never exit 3."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import ROOT, run_cli

CLASSIC = ROOT / "programs" / "classic-rewards.yaml"
GOOD = b"customer_id,date,amount\na,2027-01-10,19.99\n"


def _parquet(table: pa.Table) -> Callable[[Path], None]:
    return lambda path: pq.write_table(table, path)


CASES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "gzip-named-csv": ("t.csv", lambda p: p.write_bytes(gzip.compress(GOOD)), "gzip-compressed"),
    "zip": ("t.csv", lambda p: p.write_bytes(b"PK\x03\x04" + b"\0" * 40), "zip archive"),
    "parquet-named-csv": (
        "t.csv",
        lambda p: pq.write_table(pa.table({"a": [1]}), p),
        "give it a .parquet name",
    ),
    "utf-16": ("t.csv", lambda p: p.write_bytes(GOOD.decode().encode("utf-16")), "UTF-16"),
    "latin-1-header": (
        "t.csv",
        lambda p: p.write_bytes("customer_id,date,amount,caté\na,2027-01-10,1,x\n".encode("latin-1")),
        "column 4: byte 0xE9",
    ),
    "header-of-2-mib": (
        "t.csv",
        lambda p: p.write_bytes(b"customer_id," + b"x" * (2 << 20) + b"\n"),
        "longer than 1,048,576 bytes",
    ),
    "id-of-a-megabyte": (
        "t.csv",
        lambda p: p.write_bytes(b"customer_id,date,amount\n" + b"a" * (1 << 20) + b",2027-01-10,1\n"),
        "row 2, column 'customer_id': a value of 1,048,576 characters",
    ),
    "invalid-utf8-in-a-data-row": (
        "t.csv",
        lambda p: p.write_bytes(GOOD + b"b\xff\xfe,2027-01-11,2\n"),
        "row 3, column 'customer_id': not UTF-8 text (byte 0xff",
    ),
    "invalid-utf8-in-an-amount": (
        "t.csv",
        lambda p: p.write_bytes(GOOD * 1 + b"b,2027-01-11,2\xe9\n"),
        "row 3, column 'amount': not UTF-8 text (byte 0xe9",
    ),
    "long-last-line-no-newline": (
        "t.csv",
        lambda p: p.write_bytes(GOOD + b"b,2027-01-11," + b"1" * (3 << 20)),
        "row 3 is longer than 1,048,576 bytes",
    ),
    "parquet-all-null-dates": (
        "t.parquet",
        _parquet(
            pa.table(
                {"customer_id": ["a", "b"], "date": pa.array([None, None], pa.date32()), "amount": [1.0, 2.0]}
            )
        ),
        "row 2, column 'date': missing date",
    ),
    "parquet-list-column": (
        "t.parquet",
        _parquet(pa.table({"customer_id": [["a"]], "date": ["2027-01-10"], "amount": ["1"]})),
        "column 'customer_id' holds list",
    ),
    "parquet-struct-column": (
        "t.parquet",
        _parquet(pa.table({"customer_id": ["a"], "date": ["2027-01-10"], "amount": [{"x": 1}]})),
        "column 'amount' holds struct",
    ),
}


# Files that read, with rows that are rejected (exit 1), rather than files that cannot be read (exit 2).
ROWS_REJECTED = {"parquet-all-null-dates"}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_file_that_is_not_utf8_csv_is_named_for_what_it_is(case: str, tmp_path: Path) -> None:
    name, write, expected = CASES[case]
    path = tmp_path / name
    write(path)
    result = run_cli("earn", str(CLASSIC), str(path), "--out", str(tmp_path / "out.csv"))
    assert result.returncode == (1 if case in ROWS_REJECTED else 2), result.stderr
    assert expected in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_reader_names_each_bad_file_in_process(case: str, tmp_path: Path) -> None:
    """The same cases through the library, fast: a located InputError or located rejected rows."""
    from loyalsim.errors import InputError
    from loyalsim.transactions.reader import read_transactions

    name, write, expected = CASES[case]
    path = tmp_path / name
    write(path)
    try:
        read = read_transactions(path)
    except InputError as error:
        assert expected in str(error) and str(path) in str(error)
    else:
        assert read.rejected and expected in "\n".join(str(e) for e in read.rejected)


@pytest.mark.slow
def test_a_closed_standard_output_is_a_clear_error_unless_nothing_goes_there(tmp_path: Path) -> None:
    import subprocess

    from tests.conftest import loyalsim_executable

    sales = tmp_path / "t.csv"
    sales.write_bytes(GOOD)
    closed = subprocess.run(
        f"'{loyalsim_executable()}' earn '{CLASSIC}' '{sales}' >&-",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert closed.returncode == 2 and "standard output is closed" in closed.stderr, closed.stderr
    to_file = subprocess.run(
        f"'{loyalsim_executable()}' earn '{CLASSIC}' '{sales}' --out '{tmp_path / 'o.csv'}' >&-",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert to_file.returncode == 0 and (tmp_path / "o.csv").exists(), to_file.stderr


@pytest.mark.slow
@pytest.mark.parametrize("command", ["explain", "earn"])
def test_stacked_multiplier_campaigns_are_refused_not_overflowed(command: str, tmp_path: Path) -> None:
    document = yaml.safe_load(CLASSIC.read_text())
    document["campaigns"] = [
        {"id": f"c{i}", "start": "2027-01-01", "end": "2027-12-31", "kind": "multiplier", "multiplier": 2}
        for i in range(100)
    ]
    program = tmp_path / "p.yaml"
    program.write_text(yaml.safe_dump(document, sort_keys=False))
    sales = tmp_path / "t.csv"
    sales.write_bytes(GOOD)
    args = ["explain", str(program)] if command == "explain" else ["earn", str(program), str(sales)]
    result = run_cli(*args)
    assert result.returncode == 1, result.stderr
    assert "LS242" in result.stderr and "100 multiplier campaigns" in result.stderr
    assert "internal error" not in result.stderr


def test_twelve_monthly_doubling_campaigns_still_compute_exactly(tmp_path: Path) -> None:
    from tests.helpers import program, replay

    body = yaml.safe_load(CLASSIC.read_text())
    body = {k: v for k, v in body.items() if k not in ("apiVersion", "kind", "metadata")}
    body["campaigns"] = [
        {
            "id": f"m{i}",
            "start": f"2027-{i:02d}-01",
            "end": f"2027-{i:02d}-28",
            "kind": "multiplier",
            "multiplier": 2,
        }
        for i in range(1, 13)
    ]
    result = replay(program(body), [("a", "2027-01-10", 120.00), ("a", "2027-01-30", 120.00)])
    # 90 points doubled on the 10th; the 30th is outside January's campaign.
    assert int(result.total_earned[0]) == 180 + 90


def test_ordinary_programs_with_fractional_rates_and_points_are_not_refused() -> None:
    """A case hypothesis found: 0.07 a dollar, points to two decimals, a tier and a campaign of x1."""
    from tests.helpers import program, replay

    policy = program(
        {
            "type": "tiered",
            "points": {"name": "points", "value": 0.01, "decimals": 2},
            "earn": [
                {
                    "id": "base",
                    "kind": "spend",
                    "bands": [{"from": 0, "rate": 0.07}],
                    "banding": "marginal",
                    "rounding": "floor_amount",
                },
                {"id": "visit", "kind": "visit", "points": 1},
            ],
            "tiers": {
                "metric": "spend",
                "window": {"kind": "lifetime"},
                "levels": [
                    {"id": "member", "threshold": 0},
                    {"id": "gold", "threshold": 500, "benefits": {"earn_multiplier": 1.5}},
                ],
            },
            "campaigns": [
                {
                    "id": "double",
                    "start": "2027-03-01",
                    "end": "2027-03-31",
                    "kind": "multiplier",
                    "multiplier": 2,
                    "rules": ["base", "visit"],
                }
            ],
            "rewards": {"catalog": [{"id": "r", "kind": "discount", "cost": 100, "face_value": 1}]},
        }
    )
    result = replay(policy, [("a", "2027-03-10", 208.58)])
    # 208 whole dollars x 0.07 = 14.56, doubled 29.12, floored to 29 points; the visit's 1 point doubled: 2.
    assert int(result.total_earned[0]) == (29 + 2) * 100


@pytest.mark.slow
def test_an_amount_beyond_what_the_program_computes_exactly_is_rejected_by_row(tmp_path: Path) -> None:
    document = yaml.safe_load(CLASSIC.read_text())
    document["earn"] = [{"id": "fine", "kind": "spend", "rate": 1.234567, "rounding": "floor_points"}]
    program = tmp_path / "p.yaml"
    program.write_text(yaml.safe_dump(document, sort_keys=False))
    sales = tmp_path / "t.csv"
    # 2^63 / 1,234,567 is about 7.5e12 cents: $100 billion is beyond it, $1 million is not.
    sales.write_text("customer_id,date,amount\na,2027-01-10,1000000.00\nb,2027-01-11,100000000000.00\n")
    failed = run_cli("earn", str(program), str(sales))
    assert failed.returncode == 1 and "row 3, column 'amount'" in failed.stderr, failed.stderr
    assert "compute exactly" in failed.stderr
    skipped = run_cli(
        "earn",
        str(program),
        str(sales),
        "--on-error",
        "skip",
        "--format",
        "json",
        "--rejects",
        str(tmp_path / "r.csv"),
    )
    assert skipped.returncode == 0, skipped.stderr
    assert '"earned": 1234567,' in skipped.stdout  # $1,000,000 x 1.234567 points a dollar, exactly


def test_the_compiler_knows_the_readers_largest_amount() -> None:
    from loyalsim.compile.build import READ_AMOUNT
    from loyalsim.transactions.values import MAX_MINOR

    assert READ_AMOUNT == MAX_MINOR
