"""Finance figures from simulated months, against hand calculations."""

from __future__ import annotations

import pytest

from loyalsim.compile import load_policy
from loyalsim.finance.forecast import forecast
from loyalsim.simulate import MonthResult
from tests.conftest import ROOT


def test_liability_breakage_and_deferral_from_simulated_months() -> None:
    policy = load_policy(ROOT / "programs" / "classic-rewards.yaml")  # 1 point = $0.01
    months = [
        MonthResult(600, "program", 10, 10, 20, 100_000, points_issued=1000, points_outstanding=1000,
                    member_revenue=100_000),
        MonthResult(600, "control", 10, 0, 18, 90_000),
        MonthResult(601, "program", 10, 10, 10, 50_000, points_issued=500, points_redeemed=600, points_expired=200,
                    points_outstanding=700, member_revenue=50_000),
    ]
    first, second = forecast(policy, months, reward_cost_ratio=0.5)
    # Month 1: nothing resolved yet → ERR 1, no breakage; liability 1,000 x 0.01 x 0.5 x 1 = 5.00.
    assert (first.expected_redemption_rate, first.breakage) == (1.0, 0.0)
    assert first.liability_at_cost == pytest.approx(5.0)
    # Allocation: $1,000 of sales with 1,000 points priced 1,000 x 0.01 x 1 = 10 → 1,000 x 10 / 1,010 = 9.90.
    assert first.allocated_to_points == pytest.approx(9.90) and first.contract_liability == pytest.approx(9.90)
    # Month 2: 600 redeemed, 200 expired → ERR 0.75, breakage 0.25; liability 700 x 0.01 x 0.5 x 0.75 = 2.625.
    assert (second.expected_redemption_rate, second.breakage) == (0.75, 0.25)
    assert second.liability_at_cost == pytest.approx(2.625)
    # Month 2 allocation: $500 with 500 points priced 3.75 → 500 x 3.75 / 503.75 = 3.722 → cumulative 13.6229 → 13.62;
    # recognised: 600 of 1,500 x 0.75 = 1,125 expected → 13.6229 x 600 / 1,125 = 7.27.
    assert second.allocated_to_points == pytest.approx(3.72)
    assert second.points_revenue == pytest.approx(7.27) and second.contract_liability == pytest.approx(6.35)
