"""`loyalsim sensitivity`: one-at-a-time low/high runs on common random numbers, ranked, with tornado charts."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from tests.acceptance.test_report_browser import open_in_browser
from tests.conftest import ROOT, run_cli
from tests.helpers import small_scenario

PROGRAM = str(ROOT / "programs" / "coffee-stars.yaml")


def scenario_with_ranges(tmp_path: Path, ranges: list[dict[str, object]]) -> Path:
    path = small_scenario(tmp_path, initial=1500, arrivals=20, horizon="6 months")
    data = yaml.safe_load(path.read_text())
    data["sensitivity"] = {"ranges": ranges}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.slow
def test_sensitivity_ranks_assumptions_and_draws_tornado_charts(tmp_path: Path) -> None:
    path = scenario_with_ranges(
        tmp_path, [{"path": "population.segments[0].response.frequency_lift", "low": 0.0, "high": 0.3}]
    )
    out = tmp_path / "sens"
    result = run_cli(
        "sensitivity",
        PROGRAM,
        str(path),
        "--replications",
        "2",
        "--out",
        str(out),
        "--format",
        "json",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    rows = {r["assumption"]: r for r in document["assumptions"]}
    assert set(rows) == {
        f"population.segments[0].response.{n}"
        for n in (
            "enrolment_rate",
            "frequency_lift",
            "churn_reduction",
            "redemption_propensity",
            "goal_gradient",
            "post_reward_lift",
            "reminder_response",
        )
    } | {
        f"economics.{n}"
        for n in ("gross_margin", "reward_cost_ratio", "fixed_costs_per_month", "discount_rate")
    }
    lift = rows["population.segments[0].response.frequency_lift"]
    assert (lift["range_from"], lift["low_value"], lift["high_value"]) == ("scenario", 0.0, 0.3)
    enrol = rows[
        "population.segments[0].response.enrolment_rate"
    ]  # documented default: base 0.6 x 0.5 .. x 1.5
    assert enrol["range_from"] == "default" and enrol["low_value"] == pytest.approx(0.3)
    assert enrol["high_value"] == pytest.approx(0.9)
    # More members earn more points: the liability rises with enrolment.
    assert (
        enrol["liability_at_end_at_high"] > enrol["liability_at_end_base"] > enrol["liability_at_end_at_low"]
    )
    # Economics do not change the simulation (same customers and random numbers): the gross margin moves
    # neither liability nor cost, and fixed costs move cost by exactly 2 x 25% x 5,000 x 6 months.
    margin = rows["economics.gross_margin"]
    assert margin["liability_at_end_swing"] == 0 and margin["program_cost_swing"] == 0
    assert margin["roi_swing"] > 0
    fixed = rows["economics.fixed_costs_per_month"]
    assert fixed["program_cost_swing"] == pytest.approx(2 * 0.25 * 5000 * 6)
    ranks = sorted(r["liability_at_end_rank"] for r in document["assumptions"])
    assert ranks == list(range(1, 12))
    top = min(document["assumptions"], key=lambda r: r["liability_at_end_rank"])
    assert abs(top["liability_at_end_swing"]) == max(
        abs(r["liability_at_end_swing"]) for r in document["assumptions"]
    )
    assert pq.read_table(out / "sensitivity.parquet").num_rows == 11
    dom, log = open_in_browser(out / "sensitivity.html", tmp_path / "profile")
    for metric in ("liability_at_end", "program_cost", "roi", "npv"):
        assert f'id="tornado-{metric}"' in dom, metric
    assert dom.count('data-side="low"') >= 11 and "moves most with" in dom
    assert [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line] == []


def test_a_range_for_an_unknown_assumption_is_located(tmp_path: Path) -> None:
    path = scenario_with_ranges(tmp_path, [{"path": "economics.tax_rate", "low": 0.1, "high": 0.2}])
    result = run_cli("sensitivity", PROGRAM, str(path), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "economics.tax_rate" in text)
    assert f"{path}:{line}:" in result.stderr and "economics.NAME" in result.stderr
    assert not (tmp_path / "o").exists()
