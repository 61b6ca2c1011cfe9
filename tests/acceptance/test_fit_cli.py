"""`loyalsim fit` end to end: JSON shape, files beside the segment, bad data, retention."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import DATA, ROOT, run_cli

CDNOW = str(DATA / "cdnow" / "cdnow_sample.csv")


@pytest.mark.slow
def test_fit_purchases_json_and_segment_that_drops_into_a_scenario(tmp_path: Path) -> None:
    segment = tmp_path / "cdnow.yaml"
    result = run_cli(
        "fit",
        "purchases",
        CDNOW,
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--format",
        "json",
        "--out",
        str(segment),
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["model"] == "bgnbd" and set(payload["params"]) == {"r", "alpha", "a", "b"}
    assert payload["customers"] == 2357 and payload["repeat_customers"] == 946
    assert payload["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert set(payload["standard_errors"]) == {"r", "alpha", "a", "b"}
    holdout = payload["holdout"]
    assert holdout["actual"] == 1882 and 1500 < holdout["expected"] < 1900
    # The segment drops straight into a scenario.
    scenario = yaml.safe_load((ROOT / "scenarios" / "coffee-baseline.yaml").read_text())
    scenario["population"]["segments"] = [yaml.safe_load(segment.read_text())]
    scenario["programs"] = [str(ROOT / "programs" / "coffee-stars.yaml")]
    scenario["start"] = "2027-01-01"
    target = tmp_path / "scenario.yaml"
    target.write_text(yaml.safe_dump(scenario))
    check = run_cli("validate", str(target))
    assert check.returncode == 0, check.stdout
    # ... and runs: a small simulation on the fitted customers.
    scenario["population"]["initial"], scenario["population"]["arrivals_per_month"] = 500, 0
    scenario["horizon"] = "3 months"
    scenario.pop("guardrails")
    target.write_text(yaml.safe_dump(scenario))
    run = run_cli(
        "simulate",
        str(ROOT / "programs" / "coffee-stars.yaml"),
        str(target),
        "--replications",
        "1",
        "--out",
        str(tmp_path / "sim"),
        "--format",
        "json",
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["control_arm"]["purchases"]["mean"] > 500
    report = (tmp_path / "cdnow.report.html").read_text()
    assert "<svg" in report and 'data-series="actual"' in report and "end of calibration" in report
    lines = (tmp_path / "cdnow.customers.csv").read_text().splitlines()
    assert lines[0] == "customer_id,x,t_x,T,holdout_actual,holdout_expected" and len(lines) == 2358


@pytest.mark.slow
def test_pareto_nbd_and_text_output() -> None:
    result = run_cli("fit", "purchases", CDNOW, "--calibration-end", "1997-09-30", "--model", "pareto-nbd")
    assert result.returncode == 0 and "pareto-nbd fitted to 2,357 customers" in result.stdout
    assert "s.e." in result.stdout


@pytest.mark.parametrize(
    ("content", "args", "message", "code"),
    [
        (
            "customer_id,date,amount\n" + "".join(f"c{i},2027-01-0{1 + i % 3},5\n" for i in range(5)),
            (),
            "only 5 customers",
            1,
        ),
        (
            "customer_id,date,amount\n" + "".join(f"c{i},2027-01-{1 + i % 20:02d},5\n" for i in range(40)),
            (),
            "no customer made a repeat purchase",
            1,
        ),
        (
            "customer_id,date,amount\n" + "".join(f"c{i % 20},2027-01-05,5\n" for i in range(40)),
            (),
            "all purchases are on one day",
            1,
        ),
        (
            "customer_id,date,amount\n"
            + "".join(f"c{i % 20},2027-01-{1 + i % 28:02d},5\n" for i in range(60)),
            ("--calibration-end", "2030-01-01"),
            "outside the data",
            1,
        ),
        ("customer_id,date,amount\nc1,2027-01-01,5\n", ("--model", "weibull"), "'bgnbd', 'pareto-nbd'", 2),
        (
            "customer_id,date,amount\nc1,not-a-date,5\n",
            (),
            "row 2, column 'date'",
            1,
        ),  # rejected rows: exit 1, as in earn
    ],
)
@pytest.mark.slow
def test_bad_data_gets_a_clear_message(
    tmp_path: Path, content: str, args: tuple[str, ...], message: str, code: int
) -> None:
    data = tmp_path / "t.csv"
    data.write_text(content)
    result = run_cli("fit", "purchases", str(data), *args)
    assert result.returncode == code, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_fit_retention_json(tmp_path: Path) -> None:
    counts = tmp_path / "cohort.csv"
    counts.write_text("period,members\n0,1000\n1,869\n2,743\n3,653\n4,593\n5,551\n6,517\n7,491\n")
    result = run_cli(
        "fit", "retention", str(counts), "--column", "members", "--periods", "12", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["params"]["alpha"] == pytest.approx(0.668, rel=0.01)
    assert payload["params"]["beta"] == pytest.approx(3.806, rel=0.01)
    curve = payload["survival"]
    assert len(curve) == 13 and curve[0]["survival"] == 1 and curve[12]["projected"]
    assert all(a["survival"] > b["survival"] for a, b in itertools.pairwise(curve))


@pytest.mark.slow
def test_fit_retention_bad_input(tmp_path: Path) -> None:
    counts = tmp_path / "c.csv"
    counts.write_text("survivors\n100\n120\n90\n")
    result = run_cli("fit", "retention", str(counts))
    assert result.returncode == 1 and "must not increase" in result.stderr
    assert run_cli("fit", "retention", str(counts), "--column", "nope").returncode == 2
