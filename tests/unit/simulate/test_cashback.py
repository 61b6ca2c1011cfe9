"""Cashback and dividend ledgers by accrual month, by hand: schedules, thresholds, claims, expiry."""

from __future__ import annotations

import numpy as np

from loyalsim.compile.exact import Ratio
from loyalsim.compile.mechanics import Cashback, CashbackRate
from loyalsim.durations import Duration
from loyalsim.simulate.cashback import CashbackLedger, DividendLedger

JANUARY = 12 * 50  # 2020-01


def ledger(
    schedule: str,
    *,
    threshold: int = 100,
    expiry: Duration | None = None,
    claim: float = 1.0,
) -> CashbackLedger:
    rules = Cashback(
        rates=(CashbackRate(Ratio.of(0.01)),), threshold=threshold, schedule=schedule, expiry=expiry
    )
    return CashbackLedger(rules, np.full(3, claim), key=7)


def test_quarterly_payouts_pay_whole_balances_that_reach_the_threshold() -> None:
    book = ledger("quarterly")
    who = np.array([0, 1])
    assert book.month_end(JANUARY, who, np.array([150, 20])) == (0, 0)
    assert book.month_end(JANUARY + 1, who, np.array([250, 30])) == (0, 0)
    # End of March: member 0 has 150 + 250 + 100 = 500 and is paid; member 1 has 60, under the threshold.
    assert book.month_end(JANUARY + 2, who, np.array([100, 10])) == (500, 0)
    assert book.payable() == 60
    assert book.paid == {JANUARY: 150, JANUARY + 1: 250, JANUARY + 2: 100}
    last = [row for row in book.rows if row[0] == JANUARY + 2]
    assert last == [
        (JANUARY + 2, JANUARY, 170, 150, 0),
        (JANUARY + 2, JANUARY + 1, 280, 250, 0),
        (JANUARY + 2, JANUARY + 2, 110, 100, 0),
    ]


def test_on_request_claims_follow_the_propensity_and_unclaimed_cashback_expires() -> None:
    never = ledger("on_request", claim=0.0, expiry=Duration(months=2))
    never.month_end(JANUARY, np.array([0]), np.array([300]))
    never.month_end(JANUARY + 1, np.array([0]), np.array([200]))
    assert never.month_end(JANUARY + 2, np.array([0]), np.array([0])) == (0, 300)  # January's, 2 months on
    assert never.month_end(JANUARY + 3, np.array([0]), np.array([0])) == (0, 200)
    assert never.payable() == 0 and never.expired == {JANUARY: 300, JANUARY + 1: 200}
    always = ledger("on_request", claim=1.0)
    assert always.month_end(JANUARY, np.array([0, 1]), np.array([300, 50])) == (300, 0)
    assert always.payable() == 50


def test_dividends_accrue_over_the_year_and_are_paid_in_the_payout_month_of_the_next() -> None:
    book = DividendLedger(paid_in_month=3)
    results = [book.month_end(month, 1000) for month in range(JANUARY, JANUARY + 15)]  # 2020-01 .. 2021-03
    assert results[-1] == (12_000, 3_000)  # March 2021 pays 2020's twelve months; 2021's three are owed
    assert sum(paid for paid, _ in results) == 12_000
