"""`loyalsim backtest` (api.backtest): the CDNOW book forecast from 1997-09-30 beside what
really happened; the actuals are `earn` on the whole file, month by month."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from loyalsim import api
from tests.conftest import ROOT, run_cli

PROGRAM = ROOT / "programs" / "classic-rewards.yaml"
BOOK = ROOT / "scenarios" / "cdnow-book.yaml"
CDNOW = ROOT / "tests" / "data" / "cdnow" / "cdnow_sample.csv"
MONTHS = ["1997-10", "1997-11", "1997-12"] + [f"1998-{m:02d}" for m in range(1, 7)]


@pytest.fixture(scope="module")
def result() -> api.BacktestResult:
    return api.backtest(PROGRAM, BOOK, "1998-06-30", replications=8)


def test_the_actuals_are_earn_on_the_whole_file_month_by_month(result: api.BacktestResult) -> None:
    replayed = api.earn(PROGRAM, CDNOW)
    policy = replayed.replay.policy
    book = {m.month: m for m in replayed.book}
    from loyalsim.compile.calendar import month_label

    by_label = {month_label(month): figures for month, figures in book.items()}
    metrics = result.metrics
    assert metrics["points_earned"]["months"] == MONTHS
    for i, label in enumerate(MONTHS):
        month = by_label[label]
        assert metrics["points_earned"]["actual"][i] == month.points_issued / policy.scale
        assert metrics["points_redeemed"]["actual"][i] == month.points_redeemed / policy.scale
        assert metrics["points_expired"]["actual"][i] == month.points_expired / policy.scale
        assert metrics["points_outstanding"]["actual"][i] == month.points_outstanding / policy.scale
        assert metrics["revenue"]["actual"][i] == pytest.approx(month.revenue / 100)
    finance = {
        row["month"]: row for row in replayed.finance(result.simulation.scenario.economics).to_pylist()
    }
    assert metrics["liability_at_cost"]["actual"] == [finance[m]["liability_at_cost"] for m in MONTHS]


def test_actual_repeat_purchases_are_purchase_days_after_as_of(result: api.BacktestResult) -> None:
    rows = pacsv.read_csv(CDNOW, convert_options=pacsv.ConvertOptions(strings_can_be_null=False)).to_pylist()
    days = {(r["customer_id"], str(r["date"])) for r in rows if str(r["date"]) > "1997-09-30"}
    per_month = [sum(1 for _, d in days if d.startswith(m)) for m in MONTHS]
    assert result.metrics["repeat_purchases"]["actual"] == per_month
    # ... and they are the holdout purchases `fit purchases` counts for the same 39 weeks.
    fitted = api.fit_purchases(CDNOW, calibration_end="1997-09-30", holdout_end="1998-06-30")
    assert fitted.holdout is not None and sum(per_month) == fitted.holdout["actual"] == 1882


def test_the_forecast_bands_the_actuals_and_says_its_errors(result: api.BacktestResult) -> None:
    purchases = result.metrics["repeat_purchases"]
    assert all(
        lo <= mean <= hi
        for lo, mean, hi in zip(purchases["p5"], purchases["mean"], purchases["p95"], strict=True)
    )
    total = purchases["total"]
    assert total["p5"] <= total["mean"] <= total["p95"] and total["actual"] == 1882
    # The bias is the forecast's total against the actual's (BG/NBD expects 1,653 of 1,882).
    assert purchases["bias"] == pytest.approx((total["mean"] - 1882) / 1882)
    assert -0.2 < purchases["bias"] < 0.05 and 0 < purchases["mape"] < 0.5
    assert purchases["coverage"] == sum(purchases["inside"]) / 9
    outstanding = result.metrics["points_outstanding"]
    assert outstanding["kind"] == "stock" and outstanding["total"]["actual"] == outstanding["actual"][-1]


def test_the_files_read_back(result: api.BacktestResult, tmp_path: Path) -> None:
    result.write(tmp_path)
    document = json.loads((tmp_path / "backtest.json").read_text())
    assert document["as_of"] == "1997-09-30" and document["until"] == "1998-06-30"
    assert set(document["metrics"]["revenue"]) >= {"months", "actual", "mean", "p5", "p50", "p95", "total"}
    table = pq.read_table(tmp_path / "backtest.parquet")
    assert table.num_rows == 7 * 9 and set(table.column("metric").to_pylist()) == set(result.metrics)
    assert pacsv.read_csv(tmp_path / "backtest.csv").num_rows == 63
    assert "<script" not in (tmp_path / "backtest.html").read_text()


@pytest.mark.parametrize(
    ("until", "words"),
    [
        ("1997-09-30", "must come after"),
        ("1998-06-15", "a month's last day"),
        ("1998-12-31", "beyond the data"),
    ],
)
def test_a_bad_until_is_a_usage_error(until: str, words: str) -> None:
    with pytest.raises(api.Error, match=words) as error:
        api.backtest(PROGRAM, BOOK, until, replications=1)
    assert error.value.exit_code == 2


def test_a_scenario_without_a_history_cannot_be_backtested() -> None:
    with pytest.raises(api.Error, match=r"no population\.history") as error:
        api.backtest(PROGRAM, ROOT / "scenarios" / "coffee-baseline.yaml", "2027-06-30", replications=1)
    assert error.value.exit_code == 2


@pytest.mark.slow
def test_the_command_prints_json_and_writes_its_files(tmp_path: Path) -> None:
    done = run_cli(
        "backtest", str(PROGRAM), str(BOOK), "--until", "1998-06-30", "--replications", "4",
        "--out", str(tmp_path / "bt"), "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed == json.loads((tmp_path / "bt" / "backtest.json").read_text())
    assert printed["metrics"]["repeat_purchases"]["total"]["actual"] == 1882
    text = run_cli("backtest", str(PROGRAM), str(BOOK), "--until", "1998-06-30", "--replications", "2")
    assert text.returncode == 0 and "repeat_purchases" in text.stdout and "1,882" in text.stdout
    wrong = run_cli("backtest", str(PROGRAM), str(BOOK), "--until", "1997-01-31")
    assert wrong.returncode == 2 and "must come after" in wrong.stderr and "Traceback" not in wrong.stderr


def test_a_flow_s_running_totals_are_banded_from_each_replication(result: api.BacktestResult) -> None:
    purchases = result.metrics["repeat_purchases"]
    running = purchases["cumulative"]
    assert running["actual"][-1] == purchases["total"]["actual"]
    assert running["p5"][-1] == pytest.approx(purchases["total"]["p5"])  # the totals' band, not summed P5s
    assert running["mean"][-1] == pytest.approx(sum(purchases["mean"]))
    assert "cumulative" not in result.metrics["points_outstanding"]
