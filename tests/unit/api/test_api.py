"""The Python API (docs/api.md): its worked example runs, and its jobs give the command's results."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from loyalsim import api
from loyalsim.population.scenario import Scenario
from tests.conftest import ROOT, run_cli
from tests.helpers import small_scenario

CDNOW = ROOT / "tests" / "data" / "cdnow" / "cdnow_sample.csv"


def _small(replications: int = 2) -> Scenario:
    scenario = api.load_scenario(ROOT / "scenarios" / "coffee-baseline.yaml", replications=replications)
    return type(scenario)(**{**scenario.__dict__, "initial": 2000, "arrivals_per_month": 50, "days": 365})


@pytest.mark.slow
def test_the_worked_example_of_docs_api_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert blocks, "docs/api.md has no python example"
    monkeypatch.chdir(ROOT)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile("\n".join(blocks), "docs/api.md", "exec"), {})
    out = printed.getvalue()
    assert "2,357 customers earned" in out and "1998-06: liability at cost " in out
    assert (
        "largest liability swing: population.segments[0].response." in out
        or "largest liability swing: economics." in out
    )
    assert "holdout purchases: " in out and "LS201 line 12" in out


def test_simulate_gives_the_command_s_files(tmp_path: Path) -> None:
    scenario_file = tmp_path / "small.yaml"
    text = (ROOT / "scenarios" / "coffee-baseline.yaml").read_text()
    text = text.replace("initial: 20000", "initial: 1500").replace("../programs/", f"{ROOT / 'programs'}/")
    scenario_file.write_text(text)
    result = api.simulate(ROOT / "programs" / "coffee-stars.yaml", scenario_file, replications=2)
    result.write(tmp_path / "api")
    done = run_cli(
        "simulate",
        str(ROOT / "programs" / "coffee-stars.yaml"),
        str(scenario_file),
        "--replications",
        "2",
        "--out",
        str(tmp_path / "cli"),
    )
    assert done.returncode == 0, done.stderr
    for name in ("monthly.csv", "cohorts.csv", "summary.json", "report.html"):
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    assert pq.read_table(tmp_path / "api" / "monthly.parquet").equals(result.monthly)
    assert json.loads((tmp_path / "cli" / "summary.json").read_text()) == json.loads(
        json.dumps(result.summary)
    )


def test_results_do_not_depend_on_workers() -> None:
    policy = api.load_program(ROOT / "programs" / "coffee-stars.yaml")
    inline = api.simulate(policy, _small())
    pooled = api.simulate(policy, _small(), workers=2)
    assert inline.monthly.equals(pooled.monthly)


def test_compare_pairs_two_programs_on_the_same_customers() -> None:
    compared = api.compare(
        ROOT / "programs" / "coffee-stars.yaml", ROOT / "programs" / "classic-rewards.yaml", _small()
    )
    control_a = [r for r in compared.a.monthly.to_pylist() if r["arm"] == "control"]
    control_b = [r for r in compared.b.monthly.to_pylist() if r["arm"] == "control"]
    assert [r["purchases"] for r in control_a] == [r["purchases"] for r in control_b]  # same customers
    figure = compared.summary["figures"]["net_benefit"]
    assert figure["b_minus_a"]["mean"] == pytest.approx(figure["b"]["mean"] - figure["a"]["mean"])


def test_earn_holds_the_command_s_totals(tmp_path: Path) -> None:
    replayed = api.earn(ROOT / "programs" / "coffee-stars.yaml", CDNOW, redeem="auto")
    done = run_cli(
        "earn",
        str(ROOT / "programs" / "coffee-stars.yaml"),
        str(CDNOW),
        "--redeem",
        "auto",
        "--format",
        "parquet",
        "--out",
        str(tmp_path / "out.parquet"),
    )
    assert done.returncode == 0, done.stderr
    assert pq.read_table(tmp_path / "out.totals.parquet").to_pylist() == replayed.totals.to_pylist()
    assert pq.read_table(tmp_path / "out.parquet").to_pylist() == replayed.months.to_pylist()
    assert replayed.rejected == []


def test_rejected_rows_raise_with_their_place_or_are_skipped(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,date,amount\na,2027-01-05,10.00\nb,2027-13-01,5.00\nc,2027-01-06,x\n")
    with pytest.raises(api.RowsRejected) as error:
        api.earn(ROOT / "programs" / "coffee-stars.yaml", bad)
    assert error.value.exit_code == 1
    assert [(row.row, row.column) for row in error.value.rows] == [(3, "date"), (4, "amount")]
    kept = api.earn(ROOT / "programs" / "coffee-stars.yaml", bad, on_error="skip")
    assert len(kept.rejected) == 2 and kept.totals.num_rows == 1


def test_an_invalid_program_raises_its_located_issues() -> None:
    with pytest.raises(api.Error) as error:
        api.load_program(ROOT / "tests" / "data" / "invalid" / "tier-order.yaml")
    assert error.value.exit_code == 1
    assert [(i.code, i.line, i.column) for i in error.value.issues][:1] == [("LS201", 12, 31)]
    with pytest.raises(api.Error) as missing:
        api.load_program(ROOT / "programs" / "no-such-program.yaml")
    assert missing.value.exit_code == 2


def test_fits_and_account_agree_with_the_command(tmp_path: Path) -> None:
    fitted = api.fit_purchases(CDNOW, calibration_end="1997-09-30", holdout_end="1998-06-30")
    done = run_cli(
        "fit",
        "purchases",
        str(CDNOW),
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--format",
        "json",
    )
    payload = json.loads(done.stdout)
    assert payload["params"] == fitted.purchases.params
    assert payload["holdout"] == fitted.holdout
    written = fitted.write(tmp_path / "fit" / "segment.yaml", segment_id="cdnow")
    assert sorted(written) == ["customers", "report", "segment"] and all(
        p.is_file() for p in written.values()
    )
    import yaml

    segment = yaml.safe_load(written["segment"].read_text())
    assert segment["id"] == "cdnow" and "bgnbd" in json.dumps(segment)
    counts = tmp_path / "counts.csv"
    counts.write_text("period,members\n0,1000\n1,869\n2,743\n3,653\n4,593\n5,551\n6,517\n7,491\n")
    retention = api.fit_retention(counts, periods=12)
    assert retention.fit.params["alpha"] == pytest.approx(0.668, rel=0.01) and len(retention.survival) == 13
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "period,sales,points_issued,points_redeemed,expected_redemption_rate,point_value\n"
        "2027-Q1,1000,1000,200,0.8,0.01\n"
    )
    assert str(api.account(ledger)[0].as_dict()["points_revenue"]) == "1.98"
    with pytest.raises(api.Error, match="not a date"):
        api.fit_purchases(CDNOW, calibration_end="30/09/1997")


def test_the_api_leaves_the_caller_s_environment_alone() -> None:
    before = dict(os.environ)
    api.simulate(ROOT / "programs" / "coffee-stars.yaml", _small(1))
    assert dict(os.environ) == before


def test_sweep_simulates_each_point_and_refuses_invalid_points_before_any(tmp_path: Path) -> None:
    scenario_file = tmp_path / "small.yaml"
    text = (ROOT / "scenarios" / "coffee-baseline.yaml").read_text()
    text = text.replace("initial: 20000", "initial: 800").replace("../programs/", f"{ROOT / 'programs'}/")
    scenario_file.write_text(text)
    program = ROOT / "programs" / "coffee-stars.yaml"
    result = api.sweep(program, scenario_file, ["earn[0].rate=1,2"], replications=2)
    assert [row["earn[0].rate"] for row in result.rows] == [1, 2]
    cost = [row["program_cost_mean"] for row in result.rows]
    assert cost[1] > cost[0]  # twice the stars cost more
    result.write(tmp_path / "sweep")
    assert pq.read_table(tmp_path / "sweep" / "sweep.parquet").num_rows == 2
    with pytest.raises(api.PointsInvalid) as error:
        api.sweep(program, scenario_file, ["earn[0].rate=1,-1"], replications=1)
    assert error.value.exit_code == 1 and error.value.issues


def test_write_earn_streams_the_command_s_files_and_writes_to_a_stream(tmp_path: Path) -> None:
    program = ROOT / "programs" / "coffee-stars.yaml"
    written = api.write_earn(program, CDNOW, tmp_path / "api.csv", redeem="auto")
    assert written.files == [tmp_path / "api.csv", tmp_path / "api.totals.csv"] and written.rejects is None
    done = run_cli("earn", str(program), str(CDNOW), "--redeem", "auto", "--out", str(tmp_path / "cli.csv"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "api.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    assert (tmp_path / "api.totals.csv").read_bytes() == (tmp_path / "cli.totals.csv").read_bytes()
    stream = io.BytesIO()
    api.write_earn(program, CDNOW, stream, redeem="auto")
    assert stream.getvalue() == (tmp_path / "api.csv").read_bytes()
    as_json = io.BytesIO()
    api.write_earn(program, CDNOW, as_json, output_format="json", redeem="auto")
    assert len(json.loads(as_json.getvalue())["customers"]) == 2357


def test_write_earn_writes_nothing_on_rejected_rows_and_never_over_an_input(tmp_path: Path) -> None:
    program = ROOT / "programs" / "coffee-stars.yaml"
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,date,amount\na,2027-01-05,10.00\nb,2027-13-01,5.00\n")
    with pytest.raises(api.RowsRejected):
        api.write_earn(program, bad, tmp_path / "out.parquet", output_format="parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]
    kept = api.write_earn(program, bad, tmp_path / "out.parquet", output_format="parquet", on_error="skip")
    assert kept.rejects == tmp_path / "out.rejects.csv" and kept.files[-1] == kept.rejects
    assert pq.read_table(tmp_path / "out.totals.parquet").num_rows == 1
    assert "2027-13-01" in kept.rejects.read_text()
    with pytest.raises(api.Error, match="transaction file 1"):
        api.write_earn(program, bad, bad)
    with pytest.raises(api.Error, match="parquet needs"):
        api.write_earn(program, bad, io.BytesIO(), output_format="parquet")


def test_sensitivity_ranks_each_assumption_by_its_swing(tmp_path: Path) -> None:
    scenario = small_scenario(tmp_path, initial=600, arrivals=10, horizon="6 months", replications=1)
    result = api.sensitivity(ROOT / "programs" / "coffee-stars.yaml", scenario)
    swings = [abs(row["liability_at_end_swing"] or 0.0) for row in result.rows]
    assert swings == sorted(swings, reverse=True) and swings[0] > 0
    assert [row["liability_at_end_rank"] for row in result.rows] == list(range(1, len(result.rows) + 1))
    lift = next(r for r in result.rows if r["assumption"].endswith("response.frequency_lift"))
    assert lift["low_value"] < lift["base_value"] < lift["high_value"]
    assert result.base_values == result.document["base"]
    result.write(tmp_path / "out")
    assert pq.read_table(tmp_path / "out" / "sensitivity.parquet").to_pylist() == result.table.to_pylist()
    assert json.loads((tmp_path / "out" / "sensitivity.json").read_text())["assumptions"] == json.loads(
        json.dumps(result.rows)
    )


def test_check_judges_each_guardrail_where_it_is_written(tmp_path: Path) -> None:
    scenario = small_scenario(
        tmp_path,
        initial=600,
        arrivals=10,
        replications=2,
        guardrails=[
            {"id": "generous", "metric": "liability", "stat": "p95", "month": 6, "max": 1_000_000},
            {"id": "impossible", "metric": "members", "stat": "mean", "min": 10_000_000},
        ],
    )
    report = api.check([scenario])
    codes = {issue.message.split("'")[1]: (issue.code, issue.line) for issue in report.issues}
    assert codes["generous"][0] == "LS501" and codes["impossible"][0] == "LS500"
    assert codes["impossible"][1] > codes["generous"][1] > 1
    assert report.exit_code == 1
    missing = api.check([tmp_path / "nothing.yaml"])
    assert missing.exit_code == 2


def test_trace_follows_one_customer_through_both_arms() -> None:
    story = api.trace(ROOT / "programs" / "coffee-stars.yaml", _small(1), customer=3)
    assert story.events and {event.get("arm") for event in story.events} >= {"program", "control"}
    days = [event["day"] for event in story.events]
    assert days == sorted(days)
    with pytest.raises(api.Error, match="initial customers"):
        api.trace(ROOT / "programs" / "coffee-stars.yaml", _small(1), customer=10**6)
