"""The lot ledger (compiled FIFO walks): hand-worked cases and a per-customer reference model."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalsim.ledger.lots import NEVER, LotLedger


def ints(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_fifo_redemption_takes_the_oldest_lots_first_and_tallies_their_cohorts() -> None:
    ledger = LotLedger(3)
    ledger.add(ints(0, 1), ints(100, 40), month=10, expiry=50)
    ledger.add(ints(0), ints(70), month=11, expiry=80)
    taken = ledger.redeem(ints(0, 1), ints(150, 60))
    assert taken.tolist() == [150, 40]  # customer 1 holds only 40
    assert ledger.balance.tolist() == [20, 0, 0]
    assert ledger.cohorts.redeemed == {10: 140, 11: 50}
    # Customer 1's chain is empty; a new lot starts it again.
    ledger.add(ints(1), ints(5), month=12, expiry=90)
    assert ledger.redeem(ints(1), ints(5)).tolist() == [5]
    assert ledger.cohorts.redeemed[12] == 5


def test_expiry_removes_what_is_left_of_due_lots_and_spares_exempt_levels() -> None:
    ledger = LotLedger(3)
    ledger.add(ints(0, 1, 2), ints(10, 20, 30), month=1, expiry=5)
    ledger.add(ints(0, 1), ints(7, 8), month=2, expiry=9)
    ledger.redeem(ints(0), ints(4))
    tier = ints(0, 1, 0)
    exempt = np.array([False, True])
    owners, amounts = ledger.expire_due(5, tier, exempt)
    assert sorted(zip(owners.tolist(), amounts.tolist(), strict=True)) == [(0, 6), (2, 30)]
    assert ledger.balance.tolist() == [7, 28, 0]  # customer 1 (exempt level) keeps the lot for good
    owners, amounts = ledger.expire_due(9, tier, exempt)
    assert sorted(zip(owners.tolist(), amounts.tolist(), strict=True)) == [(0, 7)]  # customer 1 still exempt
    assert ledger.cohorts.expired == {1: 36, 2: 7}
    # Customer 0 has nothing left; the exempt customer's lots are still redeemable oldest first.
    assert ledger.redeem(ints(0, 1), ints(5, 25)).tolist() == [0, 25]
    assert ledger.cohorts.redeemed == {1: 4 + 20, 2: 5}


def test_lots_added_out_of_expiry_order_still_expire_on_their_day() -> None:
    ledger = LotLedger(2)
    ledger.add(ints(0), ints(10), month=1, expiry=30)
    ledger.add(ints(1), ints(20), month=1, expiry=10)  # earlier than the lot before it
    owners, amounts = ledger.expire_due(10)
    assert owners.tolist() == [1] and amounts.tolist() == [20]
    owners, amounts = ledger.expire_due(29)
    assert owners.size == 0
    owners, amounts = ledger.expire_due(30)
    assert owners.tolist() == [0] and amounts.tolist() == [10]


def test_a_lot_expiring_behind_the_first_live_lot_leaves_the_chain_whole() -> None:
    """The chain's first live lot moves on only when that lot itself expires: a newer lot that
    falls due first (an earlier expiry day), or one behind a lot an exempt level kept, leaves
    the older lots where FIFO redemption finds them."""
    ledger = LotLedger(1)
    ledger.add(ints(0), ints(10), month=1, expiry=30)
    ledger.add(ints(0), ints(20), month=2, expiry=10)  # newer, due first
    ledger.add(ints(0), ints(40), month=3, expiry=60)
    assert ledger.expire_due(10)[1].tolist() == [20]
    assert ledger.redeem(ints(0), ints(15)).tolist() == [15]
    assert ledger.cohorts.redeemed == {1: 10, 3: 5}
    assert ledger.expire_due(60)[1].tolist() == [35]
    ledger.add(ints(0), ints(5), month=4, expiry=90)
    assert ledger.redeem(ints(0), ints(9)).tolist() == [5] and ledger.balance.tolist() == [0]

    kept = LotLedger(1)
    kept.add(ints(0), ints(10), month=1, expiry=5)
    kept.add(ints(0), ints(20), month=2, expiry=8)
    assert kept.expire_due(5, ints(1), np.array([False, True]))[1].size == 0  # exempt: kept for good
    assert kept.expire_due(8, ints(0), np.array([False, True]))[1].tolist() == [20]  # no longer exempt
    assert kept.redeem(ints(0), ints(10)).tolist() == [10] and kept.cohorts.redeemed == {1: 10}


def test_a_reversal_beyond_the_balance_becomes_debt_repaid_from_later_earning() -> None:
    ledger = LotLedger(1)
    ledger.add(ints(0), ints(30), month=1, expiry=100)
    assert ledger.reverse(ints(0), ints(50)).tolist() == [30]
    assert ledger.debt.tolist() == [20]
    ledger.add(ints(0), ints(25), month=2, expiry=100)
    assert ledger.debt.tolist() == [0] and ledger.balance.tolist() == [5]
    assert ledger.cohorts.reversed == {1: 30, 2: 20}
    assert ledger.cohorts.issued == {1: 30, 2: 25}


OPERATION = st.tuples(
    st.sampled_from(["add", "redeem", "expire"]),
    st.lists(st.integers(0, 4), min_size=1, max_size=5),
    st.integers(1, 60),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(OPERATION, min_size=1, max_size=40))
def test_the_ledger_agrees_with_a_per_customer_queue_of_lots(
    operations: list[tuple[str, list[int], int]],
) -> None:
    """Every operation, on every customer, against plain deques of [points, month, expiry]."""
    ledger = LotLedger(5, capacity=16)  # small: the arrays have to grow
    queues: list[deque[list[int]]] = [deque() for _ in range(5)]
    issued: dict[int, int] = {}
    redeemed: dict[int, int] = {}
    expired: dict[int, int] = {}
    day = 0
    for step, (kind, customers, amount) in enumerate(operations):
        month = step // 4
        who = np.array(customers, dtype=np.int64)
        if kind == "add":
            expiry = day + amount  # rising and falling expiry days: both scan paths
            ledger.add(who, np.full(who.size, amount, dtype=np.int64), month, expiry)
            for c in customers:
                queues[c].append([amount, month, expiry])
                issued[month] = issued.get(month, 0) + amount
        elif kind == "redeem":
            unique = np.unique(who)
            taken = ledger.redeem(unique, np.full(unique.size, amount, dtype=np.int64))
            for c, got in zip(unique.tolist(), taken.tolist(), strict=True):
                left = want = min(amount, sum(lot[0] for lot in queues[c]))
                assert got == want
                while left:
                    lot = queues[c][0]
                    take = min(left, lot[0])
                    lot[0] -= take
                    left -= take
                    redeemed[lot[1]] = redeemed.get(lot[1], 0) + take
                    if lot[0] == 0:
                        queues[c].popleft()
        else:
            day += amount // 10
            owners, amounts = ledger.expire_due(day)
            got_expired: dict[int, int] = {}
            for c, points in zip(owners.tolist(), amounts.tolist(), strict=True):
                got_expired[c] = got_expired.get(c, 0) + points
            want_expired: dict[int, int] = {}
            for c, queue in enumerate(queues):
                for lot in list(queue):
                    if lot[2] <= day and lot[0] > 0:
                        want_expired[c] = want_expired.get(c, 0) + lot[0]
                        expired[lot[1]] = expired.get(lot[1], 0) + lot[0]
                        lot[0] = 0
                queues[c] = deque(lot for lot in queue if lot[0] > 0)
            assert got_expired == want_expired
        assert ledger.balance.tolist() == [sum(lot[0] for lot in q) for q in queues]
    assert ledger.cohorts.issued == issued
    assert {k: v for k, v in ledger.cohorts.redeemed.items() if v} == {k: v for k, v in redeemed.items() if v}
    assert {k: v for k, v in ledger.cohorts.expired.items() if v} == {k: v for k, v in expired.items() if v}
    outstanding: dict[int, int] = {}
    for queue in queues:
        for points, month, _ in queue:
            outstanding[month] = outstanding.get(month, 0) + points
    assert {k: v for k, v in ledger.outstanding_by_cohort().items() if v} == {
        k: v for k, v in outstanding.items() if v
    }


def _day_by_day(compact_from: int, seed: int, exempt: bool) -> tuple[LotLedger, list[list[int]]]:
    """Forty customers over 200 days: daily lots (30-day expiry), redemptions, returns, expiry."""
    rng = np.random.default_rng(seed)
    ledger = LotLedger(40, capacity=16)
    ledger.COMPACT_FROM = compact_from
    tier, levels = rng.integers(0, 2, 40), np.array([False, True])
    seen: list[list[int]] = []
    for day in range(200):
        who = np.unique(rng.integers(0, 40, 8))
        ledger.add(who, rng.integers(0, 50, who.size), month=day // 30, expiry=day + 29)
        spend = np.unique(rng.integers(0, 40, 4))
        ledger.redeem(spend, rng.integers(0, 60, spend.size))
        if day % 7 == 0:
            ledger.reverse(spend[:1], ints(15))
        owners, amounts = ledger.expire_due(day, tier if exempt else None, levels if exempt else None)
        seen.append(sorted(zip(owners.tolist(), amounts.tolist(), strict=True)))
        seen.append(ledger.balance.tolist() + ledger.debt.tolist())
    return ledger, seen


@pytest.mark.slow
@given(st.integers(0, 2**32 - 1), st.booleans())
@settings(max_examples=25, deadline=None)
def test_moving_live_lots_to_the_front_changes_nothing(seed: int, exempt: bool) -> None:
    compacted, seen = _day_by_day(50, seed, exempt)
    whole, seen_whole = _day_by_day(2**62, seed, exempt)
    assert seen == seen_whole
    assert compacted.cohorts == whole.cohorts
    assert compacted.outstanding_by_cohort() == whole.outstanding_by_cohort()
    if not exempt:  # with no exempt tier, spent lots are dropped: the arena holds about the live lots
        assert compacted.size < whole.size / 2
    chains = compacted.account[:, :2]
    assert ((chains >= -1) & (chains < compacted.size)).all()


def _chain(ledger: LotLedger, customer: int) -> list[tuple[int, int, int]]:
    """(remaining, month, expiry) of a customer's lots, oldest first, walking the chain."""
    out, lot = [], int(ledger.account[customer, 0])
    while lot >= 0:
        row = ledger.lots[lot]
        if row[0] > 0:
            out.append((int(row[0]), int(row[2]), int(row[3])))
        lot = int(row[1])
    return out


def test_a_book_rebased_on_new_rules_keeps_every_lot_and_dates_it_again() -> None:
    ledger = LotLedger(3, track_days=True)
    ledger.add(ints(0, 1), ints(100, 40), month=10, expiry=200, day=5)
    ledger.add(ints(2), ints(9), month=10, expiry=50, day=10)  # kept past day 50 by an exempt tier
    ledger.add(ints(0, 2), ints(70, 5), month=11, expiry=230, day=35)
    ledger.add(ints(0), ints(30), month=12, expiry=270, day=75)
    ledger.redeem(ints(0), ints(120))  # customer 0: 100 of day 5 and 20 of day 35 taken
    assert ledger.expire_due(50, ints(0, 0, 1), np.array([False, True]))[0].size == 0
    start = 60
    old_rules = {5: 200, 10: 50, 35: 230, 75: 270}
    rebased = ledger.rebased(  # new rules: 30 days from earning
        lambda days: days + 30, start, lambda days: np.array([old_rules[int(d)] for d in days])
    )
    assert rebased.balance.tolist() == ledger.balance.tolist() == [80, 40, 14]
    # customer 0: 50 left of day 35 (new expiry 65), 30 of day 75 (105); customer 1's lot of day 5
    # would be past its new date (35): it expires at the end of the first day under the new rules.
    assert _chain(rebased, 0) == [(50, 11, 65), (30, 12, 105)]
    assert _chain(rebased, 1) == [(40, 10, start)]
    assert _chain(rebased, 2) == [(9, 10, NEVER), (5, 11, 65)]  # what the exempt tier kept stays kept
    assert rebased.cohorts == ledger.cohorts and rebased.cohorts is not ledger.cohorts
    owners, amounts = rebased.expire_due(start)
    assert owners.tolist() == [1] and amounts.tolist() == [40]
    assert rebased.redeem(ints(0), ints(60)).tolist() == [60]  # FIFO on the rebuilt chain
    assert _chain(rebased, 0) == [(20, 12, 105)]
    assert rebased.cohorts.redeemed == {10: 100, 11: 70, 12: 10}
    assert rebased.expire_due(65)[1].tolist() == [5]  # customer 0's day-35 lot was used up


def test_rebasing_needs_the_earn_days() -> None:
    with pytest.raises(AssertionError, match="tracks earn days"):
        LotLedger(2).rebased(lambda days: days, 0)
