"""Redemption curves and the chain-ladder expected redemption rate, on triangles computed by hand."""

from __future__ import annotations

import pytest

from loyalsim.finance.cohorts import expected_redemption_rates, redemption_curves

# Two cohorts (months 0 and 1) of 100 points each, observed at the ends of months 0, 1, 2.
# Cohort 0: redeemed 20, 50, 60 (cumulative); expired 0, 0, 40 at month 2 → fully resolved at age 2.
# Cohort 1: redeemed 30, 75 at ages 0, 1; nothing expired.
ROWS = [
    (0, 0, 100, 20, 0),
    (1, 0, 100, 50, 0),
    (1, 1, 100, 30, 0),
    (2, 0, 100, 60, 40),
    (2, 1, 100, 75, 0),
]


def test_redemption_curves_are_cumulative_shares_by_age() -> None:
    curves = redemption_curves(ROWS, [0, 1, 2])
    assert curves == {0: pytest.approx([0.2, 0.5, 0.6]), 1: pytest.approx([0.3, 0.75])}


def test_chain_ladder_err_by_hand() -> None:
    month0, month1, month2 = expected_redemption_rates(ROWS, [0, 1, 2])
    # Month 0: nothing has expired, cohort 0 is unresolved for 80 of 100 points, which are assumed to redeem
    # like the resolved ones (20 redeemed / 20 resolved = 1) → ERR 1.
    assert month0 == pytest.approx(1.0)
    # Month 1: factor age 0→1 from cohort 0: 50/20 = 2.5. Cohort 1 projected 30 x 2.5 = 75; cohort 0 stays 50.
    # Unresolved share of the oldest cohort (50 of 100), resolved ratio (50+30)/(80+0) = 1 → +0.5 x issued each,
    # capped at issued - expired (100): cohort 0 → 100, cohort 1 → 100. ERR = 200/200 = 1.
    assert month1 == pytest.approx(1.0)
    # Month 2: factor 0→1 from both cohorts, (50 + 75) / (20 + 30) = 2.5 (unused now); 1→2 from cohort 0,
    # 60 / 50 = 1.2. Cohort 1 (age 1) projected 75 x 1.2 = 90. Cohort 0: 60, fully resolved (unresolved share 0,
    # so no tail). ERR = (60 + 90) / 200 = 0.75.
    assert month2 == pytest.approx(0.75)


def test_before_any_point_is_issued_err_is_one() -> None:
    assert expected_redemption_rates([], [0, 1]) == [1.0, 1.0]


def test_ultimate_rates_per_cohort_by_hand() -> None:
    from loyalsim.finance.cohorts import ultimate_rates

    # At month 2 (see above): cohort 0 is resolved at 60 of 100; cohort 1 projects 75 x 1.2 = 90 of 100.
    assert ultimate_rates(ROWS, [0, 1, 2]) == {0: (100.0, pytest.approx(0.6)), 1: (100.0, pytest.approx(0.9))}
