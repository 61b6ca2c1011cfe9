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
        MonthResult(
            600,
            "program",
            10,
            10,
            20,
            100_000,
            points_issued=1000,
            points_outstanding=1000,
            member_revenue=100_000,
        ),
        MonthResult(600, "control", 10, 0, 18, 90_000),
        MonthResult(
            601,
            "program",
            10,
            10,
            10,
            50_000,
            points_issued=500,
            points_redeemed=600,
            points_expired=200,
            points_outstanding=700,
            member_revenue=50_000,
        ),
    ]
    first, second = forecast(policy, months, {"reward_cost_ratio": 0.5})
    # Month 1: nothing resolved yet → ERR 1, no breakage; liability 1,000 x 0.01 x 0.5 x 1 = 5.00.
    assert (first.expected_redemption_rate, first.breakage) == (1.0, 0.0)
    assert first.liability_at_cost == pytest.approx(5.0)
    # Allocation: $1,000 of sales with 1,000 points priced 1,000 x 0.01 x 1 = 10 → 1,000 x 10 / 1,010 = 9.90.
    assert first.allocated_to_points == pytest.approx(9.90) and first.contract_liability == pytest.approx(
        9.90
    )
    # Month 2: 600 redeemed, 200 expired → ERR 0.75, breakage 0.25; liability 700 x 0.01 x 0.5 x 0.75 = 2.625.
    assert (second.expected_redemption_rate, second.breakage) == (0.75, 0.25)
    assert second.liability_at_cost == pytest.approx(2.625)
    # Month 2 allocation: $500 with 500 points priced 3.75 → 500 x 3.75 / 503.75 = 3.722 → cumulative 13.6229 → 13.62;
    # recognised: 600 of 1,500 x 0.75 = 1,125 expected → 13.6229 x 600 / 1,125 = 7.27.
    assert second.allocated_to_points == pytest.approx(3.72)
    assert second.points_revenue == pytest.approx(7.27) and second.contract_liability == pytest.approx(6.35)


def test_cost_margin_and_discounting_by_hand() -> None:
    policy = load_policy(ROOT / "programs" / "classic-rewards.yaml")  # 1 point = $0.01
    economics = {
        "reward_cost_ratio": 0.5,
        "gross_margin": 0.4,
        "fixed_costs_per_month": 100.0,
        "discount_rate": 0.12,
    }
    months = [
        MonthResult(600, "program", 10, 10, 20, 100_000, points_issued=1000, points_outstanding=1000),
        MonthResult(600, "control", 10, 0, 18, 90_000),
        MonthResult(
            601,
            "program",
            10,
            10,
            10,
            50_000,
            points_issued=500,
            points_redeemed=600,
            points_expired=200,
            points_outstanding=700,
        ),
        MonthResult(601, "control", 10, 0, 10, 52_000),
    ]
    first, second = forecast(policy, months, economics)
    # Month 1: no redemptions; liability 5.00 appears; +100 fixed → cost 105. Margin (1,000 - 900) x 0.4 = 40.
    assert first.reward_cost == 0 and first.program_cost == pytest.approx(105.0)
    assert first.incremental_revenue == pytest.approx(
        100.0
    ) and first.incremental_gross_margin == pytest.approx(40.0)
    assert first.net_benefit == pytest.approx(-65.0)
    # Month 2: 600 points x 0.01 x 0.5 = 3.00 redeemed at cost; liability 5.00 → 2.625 (-2.375); +100 → 100.625.
    assert second.reward_cost == pytest.approx(3.0) and second.program_cost == pytest.approx(100.625)
    # Revenue 500 vs control 520: -20 x 0.4 = -8.
    assert second.incremental_gross_margin == pytest.approx(-8.0) and second.net_benefit == pytest.approx(
        -108.625
    )
    # End-of-month discounting at 12% a year: 1.12^(-1/12), 1.12^(-2/12).
    assert first.discount_factor == pytest.approx(
        1.12 ** (-1 / 12)
    ) and second.discount_factor == pytest.approx(1.12 ** (-2 / 12))


def test_cashback_and_dividends_come_from_the_simulated_ledgers_and_expiry_reverses_cost() -> None:
    policy = load_policy(ROOT / "programs" / "pharmacy-cashback.yaml")
    months = [
        MonthResult(600, "program", 1, 1, 1, 100, cashback_accrued=500, cashback_payable=500),
        MonthResult(
            601,
            "program",
            1,
            1,
            1,
            100,
            cashback_accrued=300,
            cashback_paid=600,
            cashback_expired=100,
            cashback_payable=100,
        ),
    ]
    first, second = forecast(policy, months)
    assert (first.cashback_accrued, first.cashback_payable, first.program_cost) == (5.0, 5.0, 5.0)
    assert (second.cashback_paid, second.cashback_expired, second.cashback_payable) == (6.0, 1.0, 1.0)
    assert second.program_cost == pytest.approx(3.0 - 1.0)  # accrued less what expired unpaid


def test_donated_points_cost_their_donation_and_perks_add_to_cost() -> None:
    policy = load_policy(ROOT / "programs" / "classic-rewards.yaml")  # 1 point = $0.01
    months = [
        # 1,000 points redeemed, 400 of them converted into $6 of donations with a $3 match; $2.50 of perks.
        MonthResult(
            600,
            "program",
            10,
            10,
            20,
            100_000,
            points_issued=2000,
            points_redeemed=1000,
            points_outstanding=1000,
            points_donated=400,
            donations=900,
            donations_matched=300,
            perk_cost=250,
        ),
        MonthResult(600, "control", 10, 0, 20, 100_000),
    ]
    (month,) = forecast(policy, months, {"reward_cost_ratio": 0.5})
    # Rewards: (1,000 - 400) x 0.01 x 0.5 = 3.00; liability 1,000 x 0.01 x 0.5 x ERR 1 = 5.00.
    assert month.reward_cost == pytest.approx(3.0) and month.liability_at_cost == pytest.approx(5.0)
    assert (month.donations, month.donations_matched, month.perk_cost) == (9.0, 3.0, 2.5)
    assert month.program_cost == pytest.approx(3.0 + 5.0 + 9.0 + 2.5)
