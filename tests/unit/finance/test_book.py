"""Finance on a replayed history (finance/book.py through api.EarnResult.finance): the book's
months add up to the replay's totals and the file's sales, its run-off ends at the ledger's
cohort totals, and the accounting identities hold month by month."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from loyalsim import api
from tests.conftest import ROOT

CDNOW = ROOT / "tests" / "data" / "cdnow" / "cdnow_sample.csv"


@pytest.fixture(scope="module")
def replayed() -> api.EarnResult:
    return api.earn(ROOT / "programs" / "coffee-stars.yaml", CDNOW, redeem="auto")


def test_the_book_adds_up_to_the_replay_and_the_file(replayed: api.EarnResult) -> None:
    book, result = replayed.book, replayed.replay
    assert sum(m.points_issued for m in book) == int(result.total_earned.sum())
    assert sum(m.points_redeemed for m in book) == int(result.total_redeemed.sum())
    assert sum(m.points_expired for m in book) == int(result.total_expired.sum())
    assert book[-1].points_outstanding == int((result.balance - result.debt)[result.started].sum())
    sales = pacsv.read_csv(CDNOW).column("amount")
    assert sum(m.revenue for m in book) == round(Decimal(str(pc.sum(sales).as_py())) * 100)
    assert [m.month for m in book] == list(
        range(book[0].month, book[-1].month + 1)
    )  # 18 months, none missing
    assert len(book) == 18


def test_the_run_off_ends_at_the_ledger_s_cohort_totals(replayed: api.EarnResult) -> None:
    result = replayed.replay
    last = max(month for month, *_ in result.cohort_rows)
    final = {cohort: (i, r, e) for month, cohort, i, r, e in result.cohort_rows if month == last}
    assert final == {
        c: (result.cohorts.issued[c], result.cohorts.redeemed.get(c, 0), result.cohorts.expired.get(c, 0))
        for c in result.cohorts.issued
    }
    by_cohort: dict[int, list[tuple[int, int, int, int]]] = {}
    for month, cohort, issued, redeemed, expired in sorted(result.cohort_rows):
        by_cohort.setdefault(cohort, []).append((month, issued, redeemed, expired))
    for history in by_cohort.values():  # cumulative: never falls; a cohort's points never exceed its issue
        assert all(a[1] <= b[1] and a[2] <= b[2] and a[3] <= b[3] for a, b in itertools.pairwise(history))
        assert all(r + e <= i for _, i, r, e in history)


def test_finance_on_the_book_keeps_its_identities(replayed: api.EarnResult) -> None:
    table = replayed.finance({"reward_cost_ratio": 0.5}).to_pylist()
    policy = replayed.replay.policy
    value = float(policy.points.value.decimal)
    assert [row["month"] for row in table][:2] == ["1997-01", "1997-02"] and len(table) == 18
    assert "net_benefit" not in table[0]  # no control arm in a replay
    previous = 0.0
    for row, month in zip(table, replayed.book, strict=True):
        err = row["expected_redemption_rate"]
        assert 0 < err <= 1 and row["breakage"] == pytest.approx(1 - err)
        outstanding = month.points_outstanding / policy.scale
        assert row["liability_at_cost"] == pytest.approx(outstanding * value * 0.5 * err)
        reward_cost = month.points_redeemed / policy.scale * value * 0.5
        assert row["program_cost"] == pytest.approx(reward_cost + row["liability_at_cost"] - previous)
        previous = row["liability_at_cost"]
    deferred = sum(row["allocated_to_points"] for row in table) - sum(row["points_revenue"] for row in table)
    assert table[-1]["contract_liability"] == pytest.approx(deferred, abs=0.01)
    assert table[-1]["contract_liability"] > 0
