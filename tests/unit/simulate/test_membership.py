"""Paid membership: fee recognition by hand, sBG renewal and trial conversion against their closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import betaln

from loyalsim.compile.calendar import day_number
from loyalsim.compile.mechanics import Membership, Plan
from loyalsim.durations import Duration
from loyalsim.simulate.membership import PAID, TRIAL, Memberships

START = day_number("2027-01-01")


def memberships(
    n: int,
    *,
    trial: Duration | None = None,
    alpha: float = 0.668,
    beta: float = 3.806,
    take_up: float = 1.0,
    conversion: float = 0.5,
    fee: int = 1499,
) -> Memberships:
    rules = Membership(plans=(Plan("monthly", fee, Duration(months=1)),), trial=trial, trial_converts_to=0)
    return Memberships(
        rules,
        START,
        key=12345,
        take_up=np.full(n, take_up),
        conversion=np.full(n, conversion),
        renewal=(np.full(n, alpha), np.full(n, beta)),
    )


def test_a_fee_is_recognised_over_its_period_month_by_month_and_adds_up_exactly() -> None:
    m = memberships(3)
    m.join(np.arange(3), day=19)  # 2027-01-20: three monthly fees of $14.99, period to 2027-02-20 (31 days)
    january, february = 12 * 57, 12 * 57 + 1
    assert m.billed[january] == 3 * 1499
    # 4,497 x 12/31 = 1,740.77 → 1,741 in January (Jan 20..31); the rest, 2,756, in February.
    assert (m.recognised[january], m.recognised[february]) == (1741, 2756)
    assert sum(m.recognised.values()) == 3 * 1499


def test_renewals_follow_the_shifted_beta_geometric_survival_curve() -> None:
    n, alpha, beta = 40_000, 0.668, 3.806
    m = memberships(n, alpha=alpha, beta=beta)
    m.join(np.arange(n), day=0)
    alive = np.full(n, np.inf)  # every lifetime continues
    survivors = []
    for month in range(1, 12):  # renewal days: the first of each month, as billed on 1 January
        day = int((np.datetime64(f"2027-{month + 1:02d}-01") - np.datetime64("2027-01-01")).astype(int))
        m.events(day, alive)
        survivors.append(int(m.active.sum()))
    # Survival after t renewals: S(t) = B(alpha, beta + t) / B(alpha, beta) (Fader & Hardie 2007).
    expected = [n * np.exp(betaln(alpha, beta + t) - betaln(alpha, beta)) for t in range(1, 12)]
    for got, want in zip(survivors[:11], expected, strict=True):
        assert got == pytest.approx(want, abs=4 * np.sqrt(want))


def test_trials_convert_at_the_stated_rate_and_take_up_selects_who_starts() -> None:
    n = 20_000
    m = memberships(n, trial=Duration(days=30), take_up=0.4, conversion=0.25)
    m.join(np.arange(n), day=0)
    started = int((m.state == TRIAL).sum())
    assert started == pytest.approx(0.4 * n, abs=4 * np.sqrt(n * 0.4 * 0.6))
    m.events(30, np.full(n, np.inf))
    converted = int((m.state == PAID).sum())
    assert converted == pytest.approx(0.25 * started, abs=4 * np.sqrt(started * 0.25 * 0.75))
    assert m.billed[12 * 57] == converted * 1499  # billed at conversion, on 31 January


def test_a_member_whose_customer_lifetime_ended_cancels() -> None:
    m = memberships(2, alpha=1e-6, beta=1e6)  # practically never cancels by choice
    m.join(np.arange(2), day=0)
    m.events(31, np.array([np.inf, 10.0]))  # the second customer's lifetime ended on day 10
    assert m.state.tolist() == [PAID, 3]
