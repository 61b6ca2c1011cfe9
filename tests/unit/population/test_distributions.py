"""Response parameters stated as distributions: their quantiles, their validation, one draw per
replication shared by every arm and program, the wider bands they give, and sensitivity ranges
taken from them."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest
import yaml

from loyalsim import api
from loyalsim.population.scenario import load_scenario
from loyalsim.population.uncertain import Uncertain, parse
from loyalsim.run.sensitivity import assumptions
from tests.conftest import ROOT

STARS = ROOT / "programs" / "coffee-stars.yaml"
CLASSIC = ROOT / "programs" / "classic-rewards.yaml"


def scenario(tmp_path: Path, lift: Any, *, replications: int = 12, name: str = "u.yaml") -> Path:
    """A small two-segment scenario whose first segment's frequency_lift is ``lift``."""
    segment = {
        "purchase": {
            "model": "bgnbd",
            "time_unit": "week",
            "params": {"r": 0.9, "alpha": 4.0, "a": 0.8, "b": 4.0},
        },
        "spend": {"model": "gamma_gamma", "params": {"p": 6.0, "q": 4.0, "gamma": 15.0}},
    }
    data = {
        "apiVersion": "loyalsim/v1",
        "kind": "Scenario",
        "metadata": {"name": "uncertain"},
        "programs": [str(STARS)],
        "start": "2027-01-01",
        "horizon": "12 months",
        "seed": 5,
        "replications": replications,
        "population": {
            "initial": 3000,
            "segments": [
                {
                    "id": "regular",
                    "share": 0.5,
                    **segment,
                    "response": {"enrolment_rate": 1.0, "frequency_lift": lift},
                },
                {"id": "casual", "share": 0.5, **segment, "response": {"enrolment_rate": 0.5}},
            ],
        },
        "economics": {"gross_margin": 0.6, "reward_cost_ratio": 0.3},
    }
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_triangular_quantiles_are_the_inverse_cdf() -> None:
    u = Uncertain("triangular", 0.02, 0.05, 0.10)
    assert u.quantile(0.0) == pytest.approx(0.02) and u.quantile(1.0) == pytest.approx(0.10)
    # F(mode) = (mode - low) / (high - low) = 0.375: the quantile there is the mode
    assert u.quantile(0.375) == pytest.approx(0.05)
    draws = np.array([u.quantile(p) for p in np.random.default_rng(1).random(40_000)])
    assert draws.mean() == pytest.approx((0.02 + 0.05 + 0.10) / 3, abs=3e-4)  # the triangle's mean
    assert u.central == 0.05


def test_a_normal_is_truncated_to_the_parameters_range() -> None:
    share = parse("enrolment_rate", {"mean": 0.9, "sd": 0.2})
    assert isinstance(share, Uncertain) and (share.lower, share.upper) == (0.0, 1.0)
    draws = np.array([share.quantile(p) for p in np.linspace(0, 1, 2001)])
    assert draws.min() >= 0.0 and draws.max() <= 1.0
    assert np.all(np.diff(draws) >= 0)  # a quantile function rises
    # N(0.9, 0.2) cut to [0, 1]: the share p of the kept mass below 0.9 is its quantile at p
    x = NormalDist(0.9, 0.2)
    p = (x.cdf(0.9) - x.cdf(0.0)) / (x.cdf(1.0) - x.cdf(0.0))
    assert share.quantile(p) == pytest.approx(0.9, abs=1e-9)
    assert share.quantile(0.5) < 0.9  # the cut upper tail pulls the median down
    lift = parse("frequency_lift", {"mean": 0.05, "sd": 0.5})
    assert isinstance(lift, Uncertain) and lift.quantile(1e-9) >= 0.0 and math.isinf(lift.upper)
    assert parse("frequency_lift", 0.05) == 0.05


@pytest.mark.parametrize(
    ("lift", "code", "where"),
    [
        ({"low": 0.1, "mode": 0.05, "high": 0.2}, "LS314", "not in order"),
        ({"low": 0.05, "mode": 0.05, "high": 0.05}, "LS314", "not in order"),
        ({"low": 0.02, "mode": -1, "high": 0.1}, "LS105", "frequency_lift.mode must be at least 0"),
        ({"mean": 0.05}, "LS102", "missing the required key 'sd'"),
        ({"mean": 0.05, "sd": 0}, "LS105", "frequency_lift.sd must be more than 0"),
        ({"low": 0.0, "mode": 0.05, "high": 0.1, "sd": 1}, "LS101", "unknown key 'sd'"),
        ("high", "LS106", "is not a number, {low, mode, high} or {mean, sd}"),
        (-0.1, "LS105", "must be at least 0"),
    ],
)
def test_a_bad_distribution_is_refused_where_it_is_written(
    tmp_path: Path, lift: Any, code: str, where: str
) -> None:
    path = scenario(tmp_path, lift)
    result = api.validate([path])
    errors = [issue for issue in result.issues if issue.severity.name == "ERROR"]
    assert [issue.code for issue in errors] == [code], errors
    assert where in errors[0].message
    assert "frequency_lift" in [str(p) for p in errors[0].path]
    # located in the file as written: on frequency_lift's line or inside its block
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "frequency_lift" in line) + 1
    assert start <= errors[0].line <= start + 4, (errors[0].line, start)


def test_each_replication_draws_once_and_every_arm_sees_the_same_draw(tmp_path: Path) -> None:
    loaded = load_scenario(scenario(tmp_path, {"low": 0.02, "mode": 0.05, "high": 0.10}))
    drawn = [loaded.drawn(i).segments[0].responds("frequency_lift") for i in range(loaded.replications)]
    assert len(set(drawn)) == loaded.replications and all(0.02 <= d <= 0.10 for d in drawn)
    assert drawn == [
        loaded.drawn(i).segments[0].responds("frequency_lift") for i in range(loaded.replications)
    ]
    assert loaded.segments[0].responds("frequency_lift") == 0.05  # the mode until drawn
    assert loaded.drawn(0).segments[1] is loaded.segments[1]  # a segment without distributions is kept
    fixed = load_scenario(scenario(tmp_path, 0.05, name="fixed.yaml"))
    assert fixed.drawn(3) is fixed
    # The first three streams of a replication are the ones it had before responses could be drawn.
    before = np.random.SeedSequence(fixed.seed).spawn(fixed.replications)[2].spawn(3)
    assert [s.spawn_key for s in fixed.seeds(2)[:3]] == [s.spawn_key for s in before]


def test_a_stated_uncertainty_widens_the_bands_and_is_reported(tmp_path: Path) -> None:
    wide = {"low": 0.0, "mode": 0.15, "high": 0.30}
    uncertain = api.simulate(STARS, scenario(tmp_path, wide)).summary
    fixed = api.simulate(STARS, scenario(tmp_path, 0.15, name="fixed.yaml")).summary
    (reported,) = uncertain["drawn_responses"]
    assert reported["path"] == "population.segments[0].response.frequency_lift"
    assert reported["distribution"] == "triangular" and reported["mode"] == 0.15
    assert 0.0 <= reported["drawn"]["p5"] < reported["drawn"]["p95"] <= 0.30
    assert "drawn_responses" not in fixed

    def spread(summary: dict[str, Any]) -> float:
        band = summary["incremental_revenue"]
        return float(band["p95"] - band["p5"])

    # The same customers and Monte Carlo draws in both (common random numbers); only the lift
    # varies between replications in the first, so its P5-P95 band is wider.
    assert spread(uncertain) > 1.5 * spread(fixed), (spread(uncertain), spread(fixed))


@pytest.mark.parametrize("program", [STARS, CLASSIC])
def test_a_replication_runs_on_its_draw_whatever_the_program(tmp_path: Path, program: Path) -> None:
    """Replication i of the uncertain scenario is, month by month, replication i of the same
    scenario with the drawn value written in: for each program, so a compare's arms share it."""
    from loyalsim.compile import load_policy
    from loyalsim.simulate.engine import run_replication

    loaded = load_scenario(scenario(tmp_path, {"mean": 0.10, "sd": 0.05}, replications=3))
    policy = load_policy(program)
    for index in range(loaded.replications):
        pinned = dataclasses.replace(loaded, segments=loaded.drawn(index).segments)
        assert pinned.segments[0].responds("frequency_lift") != 0.10
        assert run_replication(policy, loaded, index).months == run_replication(policy, pinned, index).months


def test_sensitivity_takes_a_distributions_p5_and_p95_as_its_range(tmp_path: Path) -> None:
    data = yaml.safe_load(scenario(tmp_path, {"low": 0.02, "mode": 0.05, "high": 0.10}).read_text())
    (lift,) = [a for a in assumptions(data) if a.path == "population.segments[0].response.frequency_lift"]
    u = Uncertain("triangular", 0.02, 0.05, 0.10)
    assert lift.source == "distribution" and lift.base == 0.05
    assert (lift.low, lift.high) == (pytest.approx(u.quantile(0.05)), pytest.approx(u.quantile(0.95)))
    data["sensitivity"] = {"ranges": [{"path": lift.path, "low": 0.0, "high": 0.2}]}
    (given,) = [a for a in assumptions(data) if a.path == lift.path]
    assert (given.low, given.high, given.source) == (0.0, 0.2, "scenario")


def test_the_text_summary_names_each_drawn_assumption(tmp_path: Path, cli: Any) -> None:
    path = scenario(tmp_path, {"low": 0.02, "mode": 0.05, "high": 0.10}, replications=3)
    done = cli("simulate", str(STARS), str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "Assumptions drawn once per replication" in done.stdout
    assert (
        "population.segments[0].response.frequency_lift: triangular (low 0.02, mode 0.05, high 0.1)"
        in done.stdout
    )
