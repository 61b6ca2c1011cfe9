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
    first, second = forecast(policy, months, {"reward_cost_ratio": 0.5})
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


def test_cost_margin_and_discounting_by_hand() -> None:
    policy = load_policy(ROOT / "programs" / "classic-rewards.yaml")  # 1 point = $0.01
    economics = {"reward_cost_ratio": 0.5, "gross_margin": 0.4, "fixed_costs_per_month": 100.0, "discount_rate": 0.12}
    months = [
        MonthResult(600, "program", 10, 10, 20, 100_000, points_issued=1000, points_outstanding=1000),
        MonthResult(600, "control", 10, 0, 18, 90_000),
        MonthResult(601, "program", 10, 10, 10, 50_000, points_issued=500, points_redeemed=600, points_expired=200,
                    points_outstanding=700),
        MonthResult(601, "control", 10, 0, 10, 52_000),
    ]
    first, second = forecast(policy, months, economics)
    # Month 1: no redemptions; liability 5.00 appears; +100 fixed → cost 105. Margin (1,000 - 900) x 0.4 = 40.
    assert first.reward_cost == 0 and first.program_cost == pytest.approx(105.0)
    assert first.incremental_revenue == pytest.approx(100.0) and first.incremental_gross_margin == pytest.approx(40.0)
    assert first.net_benefit == pytest.approx(-65.0)
    # Month 2: 600 points x 0.01 x 0.5 = 3.00 redeemed at cost; liability 5.00 → 2.625 (-2.375); +100 → 100.625.
    assert second.reward_cost == pytest.approx(3.0) and second.program_cost == pytest.approx(100.625)
    # Revenue 500 vs control 520: -20 x 0.4 = -8.
    assert second.incremental_gross_margin == pytest.approx(-8.0) and second.net_benefit == pytest.approx(-108.625)
    # End-of-month discounting at 12% a year: 1.12^(-1/12), 1.12^(-2/12).
    assert first.discount_factor == pytest.approx(1.12 ** (-1 / 12)) and second.discount_factor == pytest.approx(
        1.12 ** (-2 / 12))


def months_with(accrual: dict[int, int], field: str) -> list[MonthResult]:
    return [MonthResult(month, "program", 1, 1, 1, 100, **{field: accrual.get(month, 0)}) for month in range(
        min(accrual), max(accrual) + 1)]


def test_cashback_is_payable_until_the_period_payout_and_on_request_stays_payable() -> None:
    from dataclasses import replace

    policy = load_policy(ROOT / "programs" / "pharmacy-cashback.yaml")  # on_request
    assert policy.cashback is not None
    months = months_with({600: 150, 601: 250, 602: 100, 603: 300}, "cashback_accrued")  # 2020-01 .. 2020-04, cents
    stays = forecast(policy, months)
    assert [f.cashback_payable for f in stays] == pytest.approx([1.5, 4.0, 5.0, 8.0])
    assert all(f.cashback_paid == 0 for f in stays)
    quarterly = replace(policy, cashback=replace(policy.cashback, schedule="quarterly"))
    paid = forecast(quarterly, months)
    # Quarter end is March (month 602): 1.50 + 2.50 + 1.00 = 5.00 paid, then April starts again.
    assert [f.cashback_paid for f in paid] == pytest.approx([0, 0, 5.0, 0])
    assert [f.cashback_payable for f in paid] == pytest.approx([1.5, 4.0, 0.0, 3.0])
    assert [f.program_cost for f in paid] == pytest.approx([1.5, 2.5, 1.0, 3.0])  # accrual basis


def test_dividends_accrue_over_the_year_and_are_paid_in_the_payout_month_of_the_next() -> None:
    policy = load_policy(ROOT / "programs" / "coop-dividend.yaml")  # paid in March
    months = months_with({month: 1000 for month in range(600, 615)}, "dividend_accrued")  # 2020-01 .. 2021-03
    result = forecast(policy, months)
    march = next(f for f in result if f.month == 614)
    assert march.dividend_paid == pytest.approx(120.0)  # 12 months of 2020 at $10
    assert march.dividend_payable == pytest.approx(30.0)  # January to March 2021 still owed
    assert sum(f.dividend_paid for f in result) == pytest.approx(120.0)
