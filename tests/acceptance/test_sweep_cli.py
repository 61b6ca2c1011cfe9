"""`loyalsim sweep`: a grid over program and scenario parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT, run_cli
from tests.helpers import small_scenario

PROGRAM = str(ROOT / "programs" / "coffee-stars.yaml")


def small(tmp_path: Path) -> str:
    return str(small_scenario(tmp_path, initial=1500, arrivals=30))


@pytest.mark.slow
def test_grid_over_program_and_scenario(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = run_cli(
        "sweep",
        PROGRAM,
        small(tmp_path),
        "--set",
        "earn[0].rate=1,2",
        "--set",
        "population.segments[0].response.redemption_propensity=0.2,0.9",
        "--replications",
        "2",
        "--out",
        str(out),
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 4 and [r["earn[0].rate"] for r in rows] == [1, 1, 2, 2]
    by = {(r["earn[0].rate"], r["population.segments[0].response.redemption_propensity"]): r for r in rows}
    assert by[(2, 0.2)]["points_issued_mean"] > by[(1, 0.2)]["points_issued_mean"]
    assert by[(1, 0.9)]["points_redeemed_mean"] > by[(1, 0.2)]["points_redeemed_mean"]
    # Every point runs on the same customers and random numbers: at one earn rate purchases are
    # identical; twice the stars a dollar sells more (the scenario's value response).
    for rate in (1, 2):
        assert len({r["purchases_mean"] for r in rows if r["earn[0].rate"] == rate}) == 1
    assert by[(2, 0.2)]["purchases_mean"] > by[(1, 0.2)]["purchases_mean"]
    assert pq.read_table(out / "sweep.parquet").num_rows == 4


@pytest.mark.slow
def test_invalid_points_stop_the_sweep_before_simulating(tmp_path: Path) -> None:
    result = run_cli(
        "sweep", PROGRAM, small(tmp_path), "--set", "earn[0].rate=1,-1", "--out", str(tmp_path / "x")
    )
    assert (
        result.returncode == 1
        and "at earn[0].rate=-1" in result.stderr
        and "nothing simulated" in result.stderr
    )
    # Located where the rate stands in the program file, not in a one-line copy of it.
    line = next(i for i, text in enumerate(Path(PROGRAM).read_text().splitlines(), 1) if "rate:" in text)
    assert f"coffee-stars.yaml:{line}:" in result.stderr, result.stderr
    assert not (tmp_path / "x").exists()
    bad = run_cli("sweep", PROGRAM, small(tmp_path), "--set", "earn[zero].rate=1")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    # One path set twice (here once through its scenario. prefix) used to end in an internal error.
    twice = run_cli(
        "sweep",
        PROGRAM,
        small(tmp_path),
        "--set",
        "population.initial=10",
        "--set",
        "scenario.population.initial=20",
    )
    assert twice.returncode == 2 and "Traceback" not in twice.stderr
    assert "give all its values in one --set, e.g. scenario.population.initial=10,20" in twice.stderr


def test_a_grid_of_too_many_runs_is_refused_before_any_work(tmp_path: Path) -> None:
    # A million-point grid used to validate and simulate at 100% with no output.
    values = ",".join(str(1 + i / 1000) for i in range(100))
    out = tmp_path / "x"
    result = run_cli(
        "sweep",
        PROGRAM,
        small(tmp_path),
        "--set",
        f"earn[0].rate={values}",
        "--set",
        f"population.segments[0].response.redemption_propensity={','.join(['0.5'] * 100)}",
        "--set",
        f"population.initial={','.join(str(100 + i) for i in range(100))}",
        "--out",
        str(out),
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "1,000,000 point(s) (100 x 100 x 100)" in result.stderr and "--max-runs 10,000" in result.stderr
    assert not out.exists()
    # Points x replications count: 4 points of 3 replications are 12 runs.
    small_grid = ["--set", "earn[0].rate=1,2", "--set", "population.initial=100,200", "--replications", "3"]
    refused = run_cli("sweep", PROGRAM, small(tmp_path), *small_grid, "--max-runs", "11", "--out", str(out))
    assert refused.returncode == 2 and "= 12 runs, more than --max-runs 11" in refused.stderr


def test_the_run_count_uses_the_scenarios_own_replications() -> None:
    from loyalsim.errors import UsageError
    from loyalsim.run.sweep import check_run_count, parse_axes, point_count

    axes = parse_axes(["earn[0].rate=1,2,3", "population.initial=1,2"])
    assert point_count(axes) == 6
    check_run_count(axes, 20, 120)  # exactly at the limit: allowed
    with pytest.raises(UsageError, match="6 point"):
        check_run_count(axes, 21, 120)
