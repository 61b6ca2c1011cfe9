"""The work estimate that refuses runs that would not end."""

from __future__ import annotations

import dataclasses

import pytest

from loyalsim.errors import UsageError
from loyalsim.population.scenario import load_scenario
from loyalsim.run import workload
from tests.conftest import ROOT

BASELINE = load_scenario(ROOT / "scenarios" / "coffee-baseline.yaml")


def with_segment(**changes: object):  # type: ignore[no-untyped-def]
    segment = dataclasses.replace(BASELINE.segments[0], **changes)
    return dataclasses.replace(BASELINE, segments=(segment,))


def test_the_bound_is_the_gamma_mean_rate_over_the_horizon_in_both_arms() -> None:
    work = workload.estimate(BASELINE)
    segment = BASELINE.segments[0]
    r, alpha = segment.purchase_params[:2]
    lift = (
        (1 + segment.responds("frequency_lift"))
        * (1 + segment.responds("goal_gradient"))
        * (1 + segment.responds("post_reward_lift"))
    )
    per_customer = 1 + r / alpha * BASELINE.days / segment.days_per_unit * lift
    assert work.purchases == pytest.approx(2 * work.customers * per_customer)


def test_the_bundled_scenario_runs_and_a_runaway_one_is_refused_with_its_figures() -> None:
    workload.check([BASELINE] * BASELINE.replications, 1)
    fast = with_segment(purchase_params=(0.243, 1e-6, 0.793, 2.426))
    with pytest.raises(UsageError, match=r"would take about [\d,]+ days .* r/alpha") as refused:
        workload.check([fast], 1)
    assert "LOYALSIM_WORK_CHECK=0" in str(refused.value)
    lifted = with_segment(response={**BASELINE.segments[0].response, "frequency_lift": 1e6})
    with pytest.raises(UsageError):
        workload.check([lifted], 1)


def test_a_million_replications_are_refused_and_workers_share_the_time() -> None:
    with pytest.raises(UsageError, match="1,000,000 replication"):
        workload.check([BASELINE] * 1_000_000, 2)
    one = workload.total_seconds([BASELINE] * 10, 1)
    assert workload.total_seconds([BASELINE] * 10, 2) == pytest.approx(one / 2)


def test_the_check_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOYALSIM_WORK_CHECK", "0")
    workload.check([with_segment(purchase_params=(0.243, 1e-6, 0.793, 2.426))], 1)
