"""IFRS 15 for points against worked examples computed by hand."""

from __future__ import annotations

from decimal import Decimal as D

from loyalsim.finance.ifrs15 import PeriodInput, account


def period(name: str, sales: str, issued: str, redeemed: str, rate: str, value: str) -> PeriodInput:
    return PeriodInput(name, D(sales), D(issued), D(redeemed), D(rate), D(value))


def test_ifrs15_illustrative_example_52() -> None:
    # IFRS 15 IE267-IE270: sales 100,000 with 10,000 points worth 1 each, 95% expected to be redeemed.
    #   points' stand-alone price 9,500 → allocated 100,000 x 9,500 / 109,500 = 8,675.80 (IFRS: 8,676)
    #   year 1: 4,500 redeemed of 9,500 expected → 8,675.80 x 4,500 / 9,500 = 4,109.59 (IFRS: 4,110)
    #   year 2: 8,500 redeemed in all, expectation revised to 9,700 → cumulative
    #           100,000 x 9,500 x 8,500 / (109,500 x 9,700) = 7,602.504 → 7,602.50 (IFRS: 7,603), so year 2
    #           revenue 7,602.50 - 4,109.59 = 3,492.91 (IFRS: 3,493); liability 1,073.30 (IFRS: 1,073)
    year1, year2 = account(
        [period("Y1", "100000", "10000", "4500", "0.95", "1"), period("Y2", "0", "0", "4000", "0.97", "1")]
    )
    assert year1.allocated_to_points == D("8675.80") and year1.allocated_to_goods == D("91324.20")
    assert year1.points_revenue == D("4109.59") and year1.contract_liability == D("4566.21")
    assert year2.allocated_to_points == D("0.00") and year2.points_revenue == D("3492.91")
    assert year2.cumulative_points_revenue == D("7602.50") and year2.contract_liability == D("1073.30")


def test_estimate_revised_down_then_up_with_cumulative_catch_up() -> None:
    # P1: sales 1,000; 1,000 points at 0.01, 80% expected → points priced 8 → allocated 1,000 x 8 / 1,008 = 7.94;
    #     200 of 800 expected redeemed → 7.9365 x 0.25 = 1.98.
    # P2: sales 500; 500 points, expectation revised DOWN to 60% → priced 3 → 500 x 3 / 503 = 2.98;
    #     cumulative allocated 10.9186 → 10.92; 600 of 1,500 x 0.6 = 900 redeemed → 10.9186 x 2/3 = 7.28;
    #     revenue 7.28 - 1.98 = 5.30; liability 3.64.
    # P3: no sales; 100 more redeemed, expectation revised UP to 90% → 700 of 1,350 → 10.9186 x 0.5185 = 5.66;
    #     revenue 5.66 - 7.28 = -1.62 (revenue reversed: more points are now expected to be redeemed);
    #     liability 5.26.
    p1, p2, p3 = account(
        [
            period("P1", "1000", "1000", "200", "0.8", "0.01"),
            period("P2", "500", "500", "400", "0.6", "0.01"),
            period("P3", "0", "0", "100", "0.9", "0.01"),
        ]
    )
    assert (p1.allocated_to_points, p1.points_revenue, p1.contract_liability) == (
        D("7.94"),
        D("1.98"),
        D("5.96"),
    )
    assert (p2.allocated_to_points, p2.points_revenue, p2.contract_liability) == (
        D("2.98"),
        D("5.30"),
        D("3.64"),
    )
    assert (p3.allocated_to_points, p3.points_revenue, p3.contract_liability) == (
        D("0.00"),
        D("-1.62"),
        D("5.26"),
    )
    # Periods always add up to the cumulative totals.
    assert p1.points_revenue + p2.points_revenue + p3.points_revenue == p3.cumulative_points_revenue
    assert sum(p.allocated_to_points + p.allocated_to_goods for p in (p1, p2, p3)) == D("1500")


def test_redemptions_beyond_the_expectation_are_capped_and_flagged() -> None:
    (only,) = account([period("P", "100", "100", "100", "0.5", "1")])
    # allocated 100 x 50 / 150 = 33.33; redeemed 100 of 50 expected → capped at 100%
    assert only.capped and only.points_revenue == D("33.33") and only.contract_liability == D("0.00")
