"""Replaying a file in parts (ranges of customers on threads) gives exactly one engine's result."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from loyalsim.compile import load_policy
from loyalsim.replay.engine import MonthRows, ReplayResult
from loyalsim.replay.parts import PARTS_FROM, _InOrder, parts_for, replay
from tests.conftest import PROGRAMS
from tests.helpers import transactions


def rows(seed: int, customers: int = 60, count: int = 900) -> list[tuple[Any, ...]]:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2027-01-01")
    out: list[tuple[Any, ...]] = []
    for _ in range(count):
        # Customers start at different times and some stop early: parts see different first and last days.
        who = int(rng.integers(0, customers))
        first, last = (who * 7) % 200, 200 + (who * 13) % 530
        day = start + int(rng.integers(first, last))
        out.append(
            (
                f"c{who:03d}",
                str(day),
                float(rng.integers(1, 60000)) / 100,
                "purchase",
                "",
                ["", "food", "own_brand", "sale"][int(rng.integers(0, 4))],
            )
        )
    return out


def same(a: ReplayResult, b: ReplayResult) -> None:
    for name in ("rows", "first_month", "last_month"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("started", "total_earned", "total_redeemed", "total_expired", "balance", "debt"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist(), name
    assert dataclasses.asdict(a.cohorts) == dataclasses.asdict(b.cohorts)
    assert a.cohort_rows == b.cohort_rows  # the run-off at each month end, summed over parts
    assert [m.month for m in a.months] == [m.month for m in b.months]
    for x, y in zip(a.months, b.months, strict=True):
        for f in dataclasses.fields(MonthRows):
            assert np.asarray(getattr(x, f.name)).tolist() == np.asarray(getattr(y, f.name)).tolist(), f.name


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.stem)
@pytest.mark.parametrize("parts", [2, 3, 7])
def test_parts_give_one_engines_result(path: Any, parts: int) -> None:
    policy = load_policy(path)
    tx = transactions(rows(parts), policy.minor_units)
    same(replay(policy, tx, parts=parts), replay(policy, tx, parts=1))


def test_a_month_end_bonus_is_dated_the_month_end_in_every_part() -> None:
    """A level's bonus granted at a month end is a lot of that day, whatever day the engine last
    saw transactions: it was dated the latest day with transactions, which a part of the file
    (here, c000's) may not share with the whole (c001 buys on 31 January)."""
    from tests.helpers import program

    policy = program(
        {
            "type": "tiered",
            "points": {"name": "points", "value": 0.01, "rounding": "floor_amount"},
            "earn": [{"id": "base", "kind": "spend", "rate": 1}],
            "tiers": {
                "metric": "spend",
                "window": {"kind": "calendar_year"},
                "evaluation": "monthly",
                "levels": [
                    {"id": "member", "threshold": 0},
                    {"id": "gold", "threshold": 1500, "benefits": {"bonus_points": 500}},
                ],
            },
            "expiry": [{"kind": "rolling", "after": "30 days"}],
        }
    )
    tx = transactions(
        [
            ("c000", "2027-01-05", 1000.0),
            ("c000", "2027-01-06", 1000.0),
            ("c001", "2027-01-31", 10.0),
            ("c001", "2027-03-15", 10.0),
        ],
        policy.minor_units,
    )
    whole, split = replay(policy, tx, parts=1), replay(policy, tx, parts=2)
    same(split, whole)
    # c000's 2,000 points of 5-6 January expire in February; the bonus of 31 January lasts to 1 March.
    expired = {m.month % 12 + 1: int(m.expired[0]) for m in whole.months}
    assert expired == {1: 0, 2: 2000, 3: 500}


def test_rows_rejected_by_the_reader_are_reported_once() -> None:
    from loyalsim.transactions.reader import RowError

    policy = load_policy(PROGRAMS[0])
    tx = transactions(rows(4), policy.minor_units)
    tx.rejected = [
        RowError("f.csv", 7, "date", "x", "not a date"),
        RowError("f.csv", 9, "amount", "y", "not a number"),
    ]
    assert replay(policy, tx, parts=3).rejected == tx.rejected == replay(policy, tx, parts=1).rejected


def test_months_reach_the_sink_in_order_and_join_to_one_engines_rows() -> None:
    policy = load_policy(PROGRAMS[0])
    tx = transactions(rows(5), policy.minor_units)
    whole: list[MonthRows] = []
    replay(policy, tx, parts=1, sink=whole.append)
    blocks: list[MonthRows] = []
    replay(policy, tx, parts=4, sink=blocks.append)
    assert [b.month for b in blocks] == sorted(b.month for b in blocks)
    for month in whole:
        mine = [b for b in blocks if b.month == month.month]
        assert np.concatenate([b.customer for b in mine]).tolist() == month.customer.tolist()
        assert np.concatenate([b.balance for b in mine]).tolist() == month.balance.tolist()


def test_a_month_waits_for_every_part() -> None:
    got: list[tuple[int, int]] = []
    order = _InOrder(2, lambda r: got.append((r.month, int(r.customer[0]))))

    def block(month: int, customer: int) -> MonthRows:
        one = np.array([customer])
        return MonthRows(month, one, one, one, one, one, one, one, one)

    order.put(1, block(5, 10))
    order.put(1, block(6, 11))
    assert got == []  # part 0 has given nothing: it may still give month 5
    order.put(0, block(6, 1))  # part 0's customers start in month 6
    assert got == [(5, 10), (6, 1), (6, 11)]
    order.done(0)
    order.put(1, block(7, 12))
    assert got[-1] == (7, 12)


def test_a_stop_ends_every_part_at_its_next_month_end() -> None:
    from loyalsim.replay.parts import _Stopped

    order = _InOrder(2, lambda r: None)
    one = np.array([0])
    order.put(0, MonthRows(1, one, one, one, one, one, one, one, one))
    order.stop()
    with pytest.raises(_Stopped):
        order.put(1, MonthRows(1, one, one, one, one, one, one, one, one))


def test_a_failure_in_one_part_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    from loyalsim.replay import engine

    policy = load_policy(PROGRAMS[0])
    tx = transactions(rows(6), policy.minor_units)
    real = engine.ReplayEngine._record_month

    def broken(self: Any, day: int) -> None:
        if self.first_customer:
            raise RuntimeError("part failed")
        real(self, day)

    monkeypatch.setattr(engine.ReplayEngine, "_record_month", broken)
    with pytest.raises(RuntimeError, match="part failed"):
        replay(policy, tx, parts=3)


def test_a_replay_on_parts_leaves_the_switch_interval_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Process settings are the doors' (loyalsim.tuning), not the library's."""
    import sys

    from loyalsim.replay import engine

    policy = load_policy(PROGRAMS[0])
    tx = transactions(rows(6), policy.minor_units)
    seen: list[float] = []
    real = engine.ReplayEngine._record_month

    def watched(self: Any, day: int) -> None:
        seen.append(sys.getswitchinterval())
        real(self, day)

    monkeypatch.setattr(engine.ReplayEngine, "_record_month", watched)
    before = sys.getswitchinterval()
    replay(policy, tx, parts=2)
    assert seen and all(value == before for value in seen)
    assert sys.getswitchinterval() == before


def test_small_files_returns_and_the_one_thread_setting_keep_one_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    big = dataclasses.replace(transactions([("a", "2027-01-01", 1.0)]))
    n = PARTS_FROM
    big = dataclasses.replace(
        big,
        **{
            name: np.repeat(getattr(big, name), n)
            for name in ("customer", "day", "second", "amount", "is_return", "quantity", "row")
        },
    )
    monkeypatch.setattr("os.sched_getaffinity", lambda _: {0, 1}, raising=False)
    assert parts_for(big) == 2
    assert parts_for(big.subset(slice(0, n - 1))) == 1
    with_return = dataclasses.replace(big, is_return=np.r_[np.zeros(n - 1, dtype=bool), True])
    assert parts_for(with_return) == 1
    monkeypatch.setenv("LOYALSIM_THREADS", "1")
    assert parts_for(big) == 1
