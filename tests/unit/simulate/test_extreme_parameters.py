"""Extreme but valid purchase parameters simulate without a raw numpy warning reaching the user."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml

from loyalsim.compile import load_policy
from loyalsim.population.scenario import load_scenario
from loyalsim.simulate.engine import run_replication
from tests.conftest import ROOT
from tests.helpers import small_scenario

EXTREMES = [
    ("pareto_nbd", {"r": 0.243, "alpha": 4.414, "s": 1e-9, "beta": 1e9}),  # mu drawn as 0: never dies
    ("pareto_nbd", {"r": 1e-9, "alpha": 1e15, "s": 1e15, "beta": 1e-9}),  # no purchases, instant death
    ("pareto_nbd", {"r": 50.0, "alpha": 1.0, "s": 0.5, "beta": 10}),  # a high purchase rate, 50 a week
    ("bgnbd", {"r": 1e-9, "alpha": 1e15, "a": 1e-9, "b": 1e9}),
]


@pytest.mark.parametrize(("model", "params"), EXTREMES, ids=str)
def test_extreme_purchase_parameters_raise_no_runtime_warning(
    tmp_path: Path, model: str, params: dict[str, float]
) -> None:
    path = small_scenario(tmp_path, initial=300, arrivals=5, horizon="2 months")
    document = yaml.safe_load(path.read_text())
    document["population"]["segments"][0]["purchase"] = {
        "model": model,
        "time_unit": "week",
        "params": params,
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    policy = load_policy(ROOT / "programs" / "coffee-stars.yaml")
    scenario = load_scenario(path, replications=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would fail the test
        result = run_replication(policy, scenario, 0)
    assert result.months and all(month is not None for month in result.months)
