"""`loyalsim earn` and `loyalsim explain`: end to end through the installed command, and the
jobs behind them in process (``api.write_earn``, ``report.explain``) where a test is about the
figures rather than the command."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from loyalsim import api
from tests.conftest import DATA, PROGRAMS, ROOT, run_cli

CLASSIC = str(ROOT / "programs" / "classic-rewards.yaml")
Q1 = str(DATA / "transactions" / "classic-q1.csv")
MIXED = str(DATA / "transactions" / "mixed.csv")


def earn_json(program: Path | str, transactions: str) -> dict:  # type: ignore[type-arg]
    """What ``loyalsim earn PROGRAM FILE --format json`` prints, made by its job in process."""
    out = io.BytesIO()
    api.write_earn(program, transactions, out, output_format="json")
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


@pytest.mark.slow
def test_classic_exercise_points_per_customer_per_month_and_in_total() -> None:
    result = run_cli("earn", CLASSIC, Q1, "--format", "json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    by_customer = {c["customer_id"]: c for c in payload["customers"]}
    # c001: Jan 120.99 → 90, 50.00 → 0; Feb 250 → 350; Mar 49.99 → 0
    assert [(m["month"], m["earned"]) for m in by_customer["c001"]["months"]] == [
        ("2027-01", 90),
        ("2027-02", 350),
        ("2027-03", 0),
    ]
    # c002: Jan 100.00 → 50, 100.60 → 50 (whole dollars); Feb 99.99 → 49; Mar 150.50 → 150
    assert [m["earned"] for m in by_customer["c002"]["months"]] == [100, 49, 150]
    # c003: Feb 0.01 → 0; Mar 1000 → 50 + 1800 = 1850
    assert [m["earned"] for m in by_customer["c003"]["months"]] == [0, 1850]
    assert by_customer["c001"]["total"] == {"earned": 440, "redeemed": 0, "expired": 0}
    assert payload["totals"]["earned"] == 440 + 299 + 1850
    assert payload["program"]["content_hash"] and payload["totals"]["customers"] == 3


@pytest.mark.slow
def test_csv_and_parquet_outputs_read_back_with_pyarrow_and_duckdb(tmp_path: Path) -> None:
    csv_out, parquet_out = tmp_path / "out.csv", tmp_path / "out.parquet"
    assert run_cli("earn", CLASSIC, Q1, "--out", str(csv_out)).returncode == 0
    assert run_cli("earn", CLASSIC, Q1, "--format", "parquet", "--out", str(parquet_out)).returncode == 0
    table = pacsv.read_csv(csv_out)
    assert table.column_names == ["customer_id", "month", "earned", "redeemed", "expired", "balance", "tier"]
    assert table.num_rows == 3 + 3 + 2
    parquet = pq.read_table(parquet_out)
    assert (
        parquet.num_rows == 8 and parquet.column("earned").to_pylist() == table.column("earned").to_pylist()
    )
    assert parquet.column("customer_id").to_pylist() == table.column("customer_id").to_pylist()
    assert parquet.schema.field("customer_id").type == pa.string()
    assert pa.types.is_dictionary(parquet.schema.field("month").type)
    encodings = pq.ParquetFile(parquet_out).metadata.row_group(0).column(0).encodings
    assert "DELTA_BYTE_ARRAY" in encodings  # customer ids, prefix-compressed
    # No value is ever null: every column is required (no definition levels stored).
    schema = pq.ParquetFile(parquet_out).schema
    assert all(schema.column(i).max_definition_level == 0 for i in range(len(schema.names)))
    assert not any(field.nullable for field in pq.read_schema(tmp_path / "out.totals.parquet"))
    # Every month's row group shares one dictionary of months, so Arrow can group them.
    by_month = parquet.group_by("month").aggregate([("earned", "sum")])
    sums = dict(
        zip(by_month.column("month").to_pylist(), by_month.column("earned_sum").to_pylist(), strict=True)
    )
    assert sorted(sums) == ["2027-01", "2027-02", "2027-03"] and sum(sums.values()) == 2589
    total = duckdb.sql(f"select sum(earned) from read_parquet('{parquet_out}')").fetchall()[0]
    assert total == (2589,)
    totals = duckdb.sql(
        f"select customer_id, earned from read_parquet('{tmp_path / 'out.totals.parquet'}') "
        "order by customer_id"
    ).fetchall()
    assert totals == [("c001", 440), ("c002", 299), ("c003", 1850)]
    assert (tmp_path / "out.totals.csv").exists()


def test_every_canonical_program_replays_the_mixed_file() -> None:
    for program in PROGRAMS:
        payload = earn_json(program, MIXED)
        assert payload["totals"]["customers"] == 3
        for customer in payload["customers"]:
            total = customer["total"]
            last = customer["months"][-1]
            assert total["earned"] - total["redeemed"] - total["expired"] == last["balance"]


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_every_canonical_program_writes_every_format_with_the_same_figures(
    program: Path, tmp_path: Path
) -> None:
    """CSV and Parquet hold exactly the JSON's figures, money and fractional points included."""
    expected = {
        (c["customer_id"], m["month"]): m for c in earn_json(program, MIXED)["customers"] for m in c["months"]
    }
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"out.{fmt}"
        api.write_earn(program, MIXED, out, output_format=fmt)
        if fmt == "parquet":
            rows = duckdb.sql(f"select * from read_parquet('{out}')").fetchall()
            names = pq.read_schema(out).names
        else:
            table = pacsv.read_csv(out, convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
            rows = [tuple(r.values()) for r in table.to_pylist()]
            names = table.column_names
        assert len(rows) == len(expected)
        for row in rows:
            record = dict(zip(names, row, strict=True))
            month = expected[(record["customer_id"], str(record["month"]))]
            for name in names:
                if name in ("customer_id", "month"):
                    continue
                # JSON writes exact decimals as strings; the files hold decimals or numbers.
                want, got = month[name], record[name]
                if name == "tier":
                    assert (got or "") == (want or ""), (fmt, name, record)
                else:
                    assert Decimal(str(got)) == Decimal(str(want)), (fmt, name, record)


@pytest.mark.slow
def test_fractional_points_are_written_exactly_to_csv_and_parquet(tmp_path: Path) -> None:
    text = (ROOT / "programs" / "classic-rewards.yaml").read_text()
    text = text.replace("  value: 0.01\n", "  value: 0.01\n  decimals: 2\n").replace(
        "rounding: floor_amount", "rounding: exact"
    )
    program = tmp_path / "fractional.yaml"
    program.write_text(text)
    sales = tmp_path / "t.csv"
    sales.write_text("customer_id,date,amount\na,2027-01-10,120.99\n")
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"out.{fmt}"
        result = run_cli("earn", str(program), str(sales), "--format", fmt, "--out", str(out))
        assert result.returncode == 0, result.stderr
        earned = duckdb.sql(f"select earned from '{out}'").fetchall()[0][0]
        # 1 x (100 - 50) + 2 x 20.99 = 91.98, exactly
        assert Decimal(str(earned)) == Decimal("91.98"), fmt


def test_cashback_program_reports_money_accrued() -> None:
    result = run_cli("earn", str(ROOT / "programs" / "pharmacy-cashback.yaml"), MIXED, "--format", "json")
    payload = json.loads(result.stdout)
    a1 = next(c for c in payload["customers"] if c["customer_id"] == "a1")
    # Jan: 5% of 42.50 = 2.125 → 2.12; 1% of 120.00 = 1.20 → 3.32
    assert a1["months"][0]["cashback"] == "3.32"


def test_tiers_and_returns_in_the_json() -> None:
    result = run_cli("earn", str(ROOT / "programs" / "hybrid-rewards.yaml"), MIXED, "--format", "json")
    payload = json.loads(result.stdout)
    b2 = next(c for c in payload["customers"] if c["customer_id"] == "b2")
    tiers = [m["tier"] for m in b2["months"]]
    # 310 + 75 + 610 = 995 by April: silver (500) from April's month end, i.e. May onward.
    assert tiers[:3] == ["member", "member", "member"] and "silver" in tiers
    a1 = next(c for c in payload["customers"] if c["customer_id"] == "a1")
    assert a1["months"][1]["earned"] == -120  # the return of x2 reversed its 120 points


@pytest.mark.slow
def test_column_mapping_and_unsorted_input(tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    lines = (DATA / "transactions" / "classic-q1.csv").read_text().splitlines()
    header = "client,day,total,tid"
    source.write_text("\n".join([header, *reversed(lines[1:])]) + "\n")
    result = run_cli(
        "earn",
        CLASSIC,
        str(source),
        "-f",
        "json",
        "--column",
        "customer_id=client",
        "--column",
        "date=day",
        "--column",
        "amount=total",
        "--column",
        "transaction_id=tid",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["earned"] == 2589
    bad = run_cli("earn", CLASSIC, str(source), "--column", "amount")
    assert bad.returncode == 2 and "NAME=SOURCE" in bad.stderr
    both = tmp_path / "both.csv"
    both.write_text("customer_id,date,amount,total\na,2027-01-05,10.00,12.00\n")
    twice = run_cli("earn", CLASSIC, str(both), "--column", "amount=total")
    assert (
        twice.returncode == 2
        and "already has a column 'amount'" in twice.stderr
        and "Traceback" not in twice.stderr
    )


BAD_ROWS = (
    "customer_id,date,amount,transaction_id,kind\n"
    "a,2027-01-05,10.00,t1,purchase\n"
    "b,2027-13-05,10.00,t2,purchase\n"
    "c,2027-01-06,ten,t3,purchase\n"
    "d,2027-01-07,-5.00,t4,purchase\n"
    ",2027-01-08,5.00,t5,purchase\n"
    "a,2027-01-09,3.00,nope,return\n"
    "e,2027-01-10,7.00,t6,gift\n"
)


@pytest.mark.slow
def test_bad_rows_fail_with_row_and_column_and_write_nothing(tmp_path: Path) -> None:
    data = tmp_path / "bad.csv"
    data.write_text(BAD_ROWS)
    out = tmp_path / "out.csv"
    result = run_cli("earn", CLASSIC, str(data), "--out", str(out))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    for expected in (
        "row 3, column 'date'",
        "row 4, column 'amount': not a number",
        "row 5, column 'amount': negative amount",
        "row 6, column 'customer_id': missing",
        "row 8, column 'kind'",
    ):
        assert expected in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [data]


@pytest.mark.slow
def test_unmatched_return_fails_and_leaves_an_existing_output_alone(tmp_path: Path) -> None:
    data = tmp_path / "r.csv"
    data.write_text(
        "customer_id,date,amount,transaction_id,kind\na,2027-01-05,10,t1,purchase\n"
        "a,2027-01-09,3.00,nope,return\n"
    )
    out = tmp_path / "out.csv"
    out.write_text("previous results\n")
    result = run_cli("earn", CLASSIC, str(data), "--out", str(out))
    assert (
        result.returncode == 1
        and "row 3, column 'transaction_id': return with no matching purchase" in result.stderr
    )
    assert out.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "r.csv"]


def test_skip_replays_the_rest_and_writes_every_rejected_row(tmp_path: Path) -> None:
    data = tmp_path / "bad.csv"
    data.write_text(BAD_ROWS)
    out = tmp_path / "out.csv"
    result = run_cli("earn", CLASSIC, str(data), "--on-error", "skip", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rejects = pacsv.read_csv(tmp_path / "out.rejects.csv").to_pylist()
    assert sorted(r["row"] for r in rejects) == [3, 4, 5, 6, 7, 8]
    assert all(r["error"] for r in rejects)
    assert pacsv.read_csv(out).num_rows == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("who,when,much\nx,2027-01-01,1\n", "missing column(s) customer_id, date, amount"),
        ("customer_id,date,amount,kind\na,2027-01-01,5,return\n", "no transaction_id column"),
    ],
)
def test_unusable_files_exit_2(tmp_path: Path, content: str, message: str) -> None:
    data = tmp_path / "f.csv"
    data.write_text(content)
    result = run_cli("earn", CLASSIC, str(data))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_missing_files_and_invalid_programs() -> None:
    assert run_cli("earn", CLASSIC, "nowhere.csv").returncode == 2
    invalid = run_cli("earn", str(DATA / "invalid" / "tier-order.yaml"), Q1)
    assert invalid.returncode == 1 and "LS201" in invalid.stderr and "Traceback" not in invalid.stderr
    assert run_cli("earn", CLASSIC, Q1, "--format", "parquet").returncode == 2


@pytest.mark.slow
def test_explain_reads_well_for_every_program() -> None:
    from loyalsim.report import explain as explaining

    for program in PROGRAMS:
        data = json.loads(explaining.render_json(explaining.explain(api.load_program(program), 100.0, 4)))
        text = explaining.render_text(explaining.explain(api.load_program(program), 100.0, 4))
        assert data["sections"], program.name
        assert text.splitlines()[0].startswith(data["program"]["title"])
    # The command prints the same, in both formats.
    program = ROOT / "programs" / "coffee-stars.yaml"
    explained = explaining.explain(api.load_program(program), 100.0, 4)
    printed = run_cli("explain", str(program))
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == explaining.render_text(explained)
    as_json = run_cli("explain", str(program), "--format", "json")
    assert json.loads(as_json.stdout) == json.loads(explaining.render_json(explained))


@pytest.mark.slow
def test_explain_numbers_come_from_the_policy() -> None:
    data = json.loads(run_cli("explain", str(ROOT / "programs" / "coffee-stars.yaml"), "-f", "json").stdout)
    table = {(e["amount"], e["tier"]): e["points"] for e in data["examples"]}
    assert table[("$120.99", "green")] == 120 and table[("$120.99", "gold")] == 145
    assert table[("$120.99", "reserve")] == 205
    reach = {r["goal"]: r["months"] for r in data["time_to_reach"]}
    assert reach == {"reward two-off": 1, "tier gold": 5, "tier reserve": None}
    faster = json.loads(
        run_cli(
            "explain", str(ROOT / "programs" / "coffee-stars.yaml"), "-f", "json", "--monthly-spend", "300"
        ).stdout
    )
    # 300 stars a month: gold (500) in month 2; then 360 a month → 2,500 in 12 months within month 8
    assert {r["goal"]: r["months"] for r in faster["time_to_reach"]}["tier gold"] == 2


@pytest.mark.slow
def test_a_large_file_replayed_on_several_engines_reports_each_rejected_row_once(tmp_path: Path) -> None:
    # 200,000 rows or more without returns: one engine per core (when the machine has several).
    source = tmp_path / "big.csv"
    lines = ["customer_id,date,amount"] + [
        f"c{i % 5000:05d},2027-{1 + i % 12:02d}-15,{i % 90}.50" for i in range(200_100)
    ]
    lines[1234] = "c00001,2027-02-30,5.00"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.parquet"
    result = run_cli(
        "earn", CLASSIC, str(source), "--format", "parquet", "--out", str(out), "--on-error", "skip"
    )
    assert result.returncode == 0, result.stderr
    assert "1 row(s) rejected and skipped" in result.stderr
    rejects = (tmp_path / "out.rejects.csv").read_text().splitlines()
    assert len(rejects) == 2 and rejects[1].split(",")[1] == "1235"
    once = duckdb.sql(
        f"select count(*) = count(distinct (customer_id, month)) from read_parquet('{out}')"
    ).fetchall()
    assert once == [(True,)]  # one row per customer per month
    # (Run where their rejects file, loyalsim-rejects.csv without --out, can be written.)
    single = run_cli(
        "earn",
        CLASSIC,
        str(source),
        "--format",
        "json",
        "--on-error",
        "skip",
        env={"LOYALSIM_THREADS": "1"},
        cwd=tmp_path,
    )
    several = run_cli("earn", CLASSIC, str(source), "--format", "json", "--on-error", "skip", cwd=tmp_path)
    assert json.loads(single.stdout)["totals"] == json.loads(several.stdout)["totals"]


@pytest.mark.slow
def test_an_output_that_is_an_input_or_another_output_is_refused_and_nothing_is_touched(
    tmp_path: Path,
) -> None:
    sales = tmp_path / "in.csv"
    sales.write_text("customer_id,date,amount\na,2027-01-10,19.99\n")
    original = sales.read_bytes()
    (tmp_path / "link.csv").symlink_to(sales)
    cases = [
        ("earn", CLASSIC, str(sales), "--out", str(sales)),  # the input itself
        ("earn", CLASSIC, str(tmp_path / "link.csv"), "--out", str(sales)),  # through a link
        (
            "earn",
            CLASSIC,
            str(sales),
            "--out",
            str(tmp_path / "o.csv"),
            "--on-error",
            "skip",
            "--rejects",
            str(tmp_path / "." / "o.csv"),
        ),  # two outputs, two spellings
        ("earn", CLASSIC, str(sales), "--out", str(tmp_path / "in.totals.csv").replace("in.totals", "in")),
    ]
    for args in cases:
        result = run_cli(*args)
        assert result.returncode == 2 and "is the same file as" in result.stderr, (args, result.stderr)
        assert sales.read_bytes() == original and not (tmp_path / "o.csv").exists()
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "period,sales,points_issued,points_redeemed,expected_redemption_rate,point_value\n"
        "2027-01,1000,100,0,0.8,0.01\n"
    )
    refused = run_cli("account", str(ledger), "--format", "csv", "--output", str(ledger))
    assert refused.returncode == 2 and "is the same file as the input the ledger" in refused.stderr
    assert "2027-01,1000" in ledger.read_text()


@pytest.mark.slow
def test_a_device_or_pipe_given_as_the_output_is_refused_not_replaced(tmp_path: Path) -> None:
    import os

    sales = tmp_path / "in.csv"
    sales.write_text("customer_id,date,amount\na,2027-01-10,19.99\n")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/null")):
        result = run_cli("earn", CLASSIC, str(sales), "--out", str(target))
        assert result.returncode == 2 and "device or a pipe" in result.stderr, result.stderr
    assert fifo.is_fifo() and Path("/dev/null").is_char_device()


def _long_file(path: Path, rows: int) -> Path:
    """A plain transaction file that earn takes a second or more to read (50,000 customers)."""
    with path.open("w") as handle:
        handle.write("customer_id,date,amount\n")
        for start in range(0, rows, 100_000):
            handle.write(
                "".join(
                    f"c{(start + i) % 50_000},2027-0{1 + i % 9}-1{i % 10},{i % 97}.{i % 100:02d}\n"
                    for i in range(100_000)
                )
            )
    return path


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.3, 0.6, 0.9])
def test_a_file_truncated_while_earn_reads_it_is_an_error_not_a_crash(tmp_path: Path, delay: float) -> None:
    # The plain reader mapped the file: a truncation mid-scan killed earn with SIGBUS, silently.
    import os
    import subprocess
    import time

    from tests.conftest import loyalsim_executable

    path = _long_file(tmp_path / "t.csv", 3_000_000)
    process = subprocess.Popen(
        [
            loyalsim_executable(),
            "earn",
            str(PROGRAMS[0]),
            str(path),
            "--format",
            "parquet",
            "--out",
            str(tmp_path / "o.parquet"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(delay)
    os.truncate(path, 1_000_000)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode in (0, 2), (process.returncode, stderr[-500:])
    assert b"Traceback" not in stderr
    if process.returncode == 2:
        assert b"t.csv" in stderr and not (tmp_path / "o.parquet").exists()


@pytest.mark.slow
def test_ctrl_c_in_earn_says_so_and_writes_nothing(tmp_path: Path) -> None:
    # Typer turned Ctrl-C into a silent exit 130.
    import signal
    import subprocess
    import time

    from tests.conftest import loyalsim_executable

    path = _long_file(tmp_path / "t.csv", 4_000_000)
    out = tmp_path / "o.parquet"
    process = subprocess.Popen(
        [
            loyalsim_executable(),
            "earn",
            str(PROGRAMS[0]),
            str(path),
            "--format",
            "parquet",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip("earn finished before it could be interrupted")
    assert process.returncode == 130 and b"interrupted" in stderr and b"Traceback" not in stderr
    assert not out.exists()
