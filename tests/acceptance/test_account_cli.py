"""`loyalsim account` end to end."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli

LEDGER = (
    "period,sales,points_issued,points_redeemed,expected_redemption_rate,point_value\n"
    "2027-Q1,1000,1000,200,0.8,0.01\n2027-Q2,500,500,400,0.6,0.01\n2027-Q3,0,0,100,0.9,0.01\n"
)


def test_account_json_csv_and_text(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER)
    payload = json.loads(run_cli("account", str(ledger), "--format", "json").stdout)
    assert "stand-alone selling prices" in payload["method"]
    keys = {
        "period",
        "allocated_to_points",
        "allocated_to_goods",
        "points_revenue",
        "contract_liability",
        "cumulative_points_revenue",
    }
    assert all(keys <= set(p) for p in payload["periods"])
    assert [p["points_revenue"] for p in payload["periods"]] == ["1.98", "5.30", "-1.62"]
    csv_text = run_cli("account", str(ledger), "--format", "csv").stdout.splitlines()
    assert csv_text[0].startswith("period,sales,allocated_to_points") and len(csv_text) == 4
    text = run_cli("account", str(ledger)).stdout
    assert "2027-Q2" in text and "Method:" in text


def test_account_bad_rows_are_located(tmp_path: Path) -> None:
    ledger = tmp_path / "bad.csv"
    ledger.write_text(LEDGER.replace("2027-Q2,500,500,400,0.6", "2027-Q2,five,500,-4,1.6"))
    result = run_cli("account", str(ledger))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    for expected in (
        "row 3, column 'sales': not a number",
        "row 3, column 'points_redeemed': must not be negative",
        "row 3, column 'expected_redemption_rate'",
    ):
        assert expected in result.stderr
    assert run_cli("account", str(tmp_path / "missing.csv")).returncode == 2


def test_account_refuses_huge_figures_repeated_periods_and_repeated_columns(tmp_path: Path) -> None:
    ledger = tmp_path / "bad.csv"
    # 1e308 used to reach the decimal arithmetic and end in an internal error.
    ledger.write_text(LEDGER.replace("2027-Q2,500,500", "2027-Q2,1e308,500").replace("2027-Q3", "2027-Q1"))
    result = run_cli("account", str(ledger))
    assert (
        result.returncode == 1 and "Traceback" not in result.stderr and "internal error" not in result.stderr
    )
    assert "row 3, column 'sales': out of range ('1e308'; at most 10^15)" in result.stderr
    assert "row 4, column 'period': '2027-Q1' is already row 2" in result.stderr
    ledger.write_text(LEDGER.replace("point_value", "sales"))
    result = run_cli("account", str(ledger))
    assert result.returncode == 2 and "the header names 'sales' more than once" in result.stderr
    # The largest figures it takes still compute, to the cent.
    ledger.write_text(LEDGER.splitlines()[0] + "\nP1,999999999999999.99,999999999999999,0,1,0.000000001\n")
    assert run_cli("account", str(ledger), "--format", "json").returncode == 0


def test_account_reads_numbers_as_earn_does_and_bounds_their_exponent(tmp_path: Path) -> None:
    ledger = tmp_path / "bad.csv"
    # 1e-999999999 ran 25 s and wrote a 1 GB CSV; 10_000 and Arabic-Indic digits were read
    # although the transaction reader refuses them.
    ledger.write_text(
        LEDGER.replace("2027-Q2,500,500,400", "2027-Q2,1e-999999999,10_000,\u0661\u0662").replace(
            "2027-Q3,0,0,100,0.9,0.01", "2027-Q3,1e999999999,0,100,0.9,0.0000000000001"
        )
    )
    result = run_cli("account", str(ledger))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    for expected in (
        "row 3, column 'sales': more than 12 decimal places ('1e-999999999')",
        "row 3, column 'points_issued': not a number ('10_000')",
        "row 3, column 'points_redeemed': not a number ('\u0661\u0662')",
        "row 4, column 'sales': out of range ('1e999999999'",
        "row 4, column 'point_value': more than 12 decimal places",
    ):
        assert expected in result.stderr, expected
    # Exponents within the bounds are numbers, as in a transaction file.
    ledger.write_text(LEDGER.replace("2027-Q1,1000,1000,200", "2027-Q1,1e3,1E3,2.0e2"))
    assert (
        json.loads(run_cli("account", str(ledger), "--format", "json").stdout)["periods"][0]["points_revenue"]
        == "1.98"
    )
