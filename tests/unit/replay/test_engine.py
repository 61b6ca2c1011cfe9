"""Replay per mechanic, with hand-computed expectations."""

from __future__ import annotations

import numpy as np

from tests.helpers import monthly, program, replay, transactions

REWARD_500 = {"catalog": [{"id": "five", "kind": "discount", "cost": 500, "face_value": 5}]}
BASE = {
    "points": {"name": "p", "value": 0.01, "rounding": "floor_amount"},
    "earn": [{"id": "base", "kind": "spend", "rate": 1}],
}


def test_classic_exercise_over_three_months() -> None:
    policy = program(
        {
            "type": "points",
            "points": {"name": "points", "value": 0.01},
            "earn": [
                {
                    "id": "c",
                    "kind": "spend",
                    "rounding": "floor_amount",
                    "bands": [{"from": 50, "to": 100, "rate": 1}, {"from": 100, "rate": 2}],
                }
            ],
            "rewards": {"catalog": [{"id": "r", "kind": "discount", "cost": 1000, "face_value": 10}]},
        }
    )
    result = replay(
        policy,
        [
            ("a", "2027-01-03", 120.99),
            ("a", "2027-01-20", 50.00),
            ("a", "2027-02-02", 100.60),
            ("a", "2027-03-15", 0.01),
            ("b", "2027-02-10", 250.00),
            ("b", "2027-03-01", 99.99),
        ],
    )
    assert [m["earned"] for m in monthly(result, "a")] == [90, 50, 0]
    assert [m["balance"] for m in monthly(result, "a")] == [90, 140, 140]
    assert [(m["month"], m["earned"]) for m in monthly(result, "b")] == [("2027-02", 350), ("2027-03", 49)]
    assert int(result.total_earned.sum()) == 90 + 50 + 350 + 49


def test_immediate_upgrade_applies_to_the_next_purchase_not_the_qualifying_one() -> None:
    policy = program(
        {
            "type": "tiered",
            **BASE,
            "rewards": REWARD_500,
            "tiers": {
                "metric": "spend",
                "window": {"kind": "calendar_year"},
                "evaluation": "immediate",
                "levels": [
                    {"id": "a", "threshold": 0},
                    {"id": "b", "threshold": 100, "benefits": {"earn_multiplier": 2}},
                ],
            },
        }
    )
    result = replay(policy, [("x", "2027-01-05", 60), ("x", "2027-01-06", 60), ("x", "2027-01-07", 60)])
    # 60 at a; 60 at a (reaches 120 → b); 60 at b = 120
    (january,) = monthly(result, "x")
    assert january["earned"] == 240 and january["tier"] == "b"


def test_visits_count_towards_tiers_and_several_levels_can_be_passed_at_once() -> None:
    policy = program(
        {
            "type": "tiered",
            **BASE,
            "rewards": REWARD_500,
            "tiers": {
                "metric": "visits",
                "window": {"kind": "lifetime"},
                "evaluation": "immediate",
                "levels": [
                    {"id": "a", "threshold": 0},
                    {"id": "b", "threshold": 2, "benefits": {"earn_multiplier": 2}},
                    {"id": "c", "threshold": 3, "benefits": {"earn_multiplier": 3}},
                ],
            },
        }
    )
    # Visits, not dollars: $10 each; the 2nd purchase reaches b, the 3rd c; a $0 purchase is a visit too.
    result = replay(
        policy,
        [
            ("x", "2027-01-05", 10),
            ("x", "2027-01-06", 10),
            ("x", "2027-01-07", 10),
            ("x", "2027-01-08", 10),
            ("y", "2027-01-05", 0),
            ("y", "2027-01-05", 0),
            ("y", "2027-01-05", 0),
            ("y", "2027-01-06", 10),
        ],
    )
    (x,) = monthly(result, "x")
    assert x["earned"] == 10 + 10 + 20 + 30 and x["tier"] == "c"
    (y,) = monthly(result, "y")  # three visits in one day: a → b → c, the day after earns ×3
    assert y["earned"] == 30 and y["tier"] == "c"


def test_monthly_evaluation_upgrades_at_month_end() -> None:
    policy = program(
        {
            "type": "tiered",
            **BASE,
            "rewards": REWARD_500,
            "tiers": {
                "metric": "spend",
                "window": {"kind": "lifetime"},
                "evaluation": "monthly",
                "levels": [
                    {"id": "a", "threshold": 0},
                    {"id": "b", "threshold": 100, "benefits": {"earn_multiplier": 2}},
                ],
            },
        }
    )
    result = replay(policy, [("x", "2027-01-05", 150), ("x", "2027-01-20", 10), ("x", "2027-02-01", 10)])
    # Reaching b in January takes effect from 1 February: January's row still shows a.
    assert [(m["earned"], m["tier"]) for m in monthly(result, "x")] == [(160, "a"), (20, "b")]


def test_calendar_year_status_holds_through_the_next_year_then_resets() -> None:
    policy = program(
        {
            "type": "tiered",
            **BASE,
            "rewards": REWARD_500,
            "tiers": {
                "metric": "spend",
                "window": {"kind": "calendar_year"},
                "levels": [
                    {"id": "insider", "threshold": 0},
                    {"id": "vib", "threshold": 350},
                    {"id": "rouge", "threshold": 1000},
                ],
                "downgrade": {"policy": "reset"},
            },
        }
    )
    result = replay(policy, [("x", "2027-06-01", 1200), ("x", "2028-05-01", 400), ("x", "2029-12-31", 1)])
    tiers = {m["month"]: m["tier"] for m in monthly(result, "x")}
    # 2027: rouge from June. 2028: kept (qualified on 2027 spend); 2028 spend 400 → vib for 2029.
    assert tiers["2027-06"] == "rouge" and tiers["2028-12"] == "rouge" and tiers["2029-01"] == "vib"
    assert tiers["2028-01"] == "rouge"
    assert tiers["2029-12"] == "vib"  # 2029 spend 1 → insider from 2030 (outside the data)


def test_one_level_downgrade_and_grace() -> None:
    tiers = {
        "metric": "spend",
        "window": {"kind": "calendar_year"},
        "levels": [{"id": "a", "threshold": 0}, {"id": "b", "threshold": 100}, {"id": "c", "threshold": 200}],
        "downgrade": {"policy": "one_level", "grace": "2 months"},
    }
    policy = program({"type": "tiered", **BASE, "rewards": REWARD_500, "tiers": tiers})
    result = replay(policy, [("x", "2027-03-01", 250), ("x", "2028-06-01", 1), ("x", "2029-03-15", 1)])
    by_month = {m["month"]: m["tier"] for m in monthly(result, "x")}
    # End of 2027: requalifies for c (250). End of 2028: qualifies for a (spend 1); one level
    # down → b, after a grace of 2 months: the downgrade lands on 28 February 2029.
    assert by_month["2027-12"] == "c" and by_month["2028-12"] == "c"
    assert (by_month["2029-01"], by_month["2029-02"], by_month["2029-03"]) == ("c", "b", "b")


def test_rolling_window_downgrade_when_old_spend_leaves_the_window() -> None:
    policy = program(
        {
            "type": "tiered",
            **BASE,
            "rewards": REWARD_500,
            "tiers": {
                "metric": "spend",
                "window": {"kind": "rolling", "length": "3 months"},
                "levels": [{"id": "a", "threshold": 0}, {"id": "b", "threshold": 100}],
            },
        }
    )
    result = replay(policy, [("x", "2027-01-10", 150), ("x", "2027-05-10", 1)])
    tiers = [(m["month"], m["tier"]) for m in monthly(result, "x")]
    # Window = the month and the 2 before it: January's spend counts at the ends of Jan, Feb, Mar;
    # at the end of April (Feb-Apr: nothing) the member drops to a, from 1 May.
    assert tiers == [("2027-01", "b"), ("2027-02", "b"), ("2027-03", "b"), ("2027-04", "b"), ("2027-05", "a")]


def test_rolling_expiry_with_tier_exemption_evaluated_when_due() -> None:
    policy = program(
        {
            "type": "tiered",
            "points": {"name": "stars", "value": 0.0333},
            "earn": [{"id": "base", "kind": "spend", "rate": 1}],
            "tiers": {
                "metric": "points_earned",
                "window": {"kind": "lifetime"},
                "levels": [{"id": "green", "threshold": 0}, {"id": "gold", "threshold": 500}],
            },
            "rewards": {"catalog": [{"id": "two", "kind": "discount", "cost": 60, "face_value": 2}]},
            "expiry": [{"kind": "rolling", "after": "6 months", "exempt_tiers": ["gold"]}],
        }
    )
    result = replay(
        policy,
        [("g", "2027-01-15", 100), ("g", "2027-08-01", 1), ("v", "2027-01-15", 600), ("v", "2027-08-01", 1)],
    )
    green = {m["month"]: m for m in monthly(result, "g")}
    # Earned 15 January: valid through 14 July, expired at the end of that day. (Gold is reached
    # on the purchase itself: points_earned counts it.)
    assert green["2027-06"]["balance"] == 100 and green["2027-07"]["expired"] == 100
    assert green["2027-08"]["balance"] == 1
    gold = {m["month"]: m for m in monthly(result, "v")}
    assert gold["2027-07"]["expired"] == 0 and gold["2027-08"]["balance"] == 601


def test_expiry_to_month_end_fixed_date_and_inactivity() -> None:
    rolling = program(
        {
            "type": "points",
            **BASE,
            "rewards": REWARD_500,
            "expiry": [{"kind": "rolling", "after": "1 month", "to_month_end": True}],
        }
    )
    months = monthly(replay(rolling, [("x", "2027-01-10", 10), ("x", "2027-03-05", 1)]), "x")
    # Due 10 February → end of February.
    assert [(m["month"], m["expired"], m["balance"]) for m in months] == [
        ("2027-01", 0, 10),
        ("2027-02", 10, 0),
        ("2027-03", 0, 1),
    ]
    fixed = program(
        {"type": "points", **BASE, "rewards": REWARD_500, "expiry": [{"kind": "fixed_date", "date": "12-31"}]}
    )
    months = monthly(
        replay(fixed, [("x", "2027-12-31", 10), ("x", "2028-01-01", 5), ("x", "2028-02-01", 1)]), "x"
    )
    assert [(m["month"], m["expired"], m["balance"]) for m in months] == [
        ("2027-12", 10, 0),
        ("2028-01", 0, 5),
        ("2028-02", 0, 6),
    ]
    idle = program(
        {
            "type": "points",
            **BASE,
            "rewards": REWARD_500,
            "expiry": [{"kind": "inactivity", "after": "2 months"}],
        }
    )
    months = monthly(
        replay(idle, [("x", "2027-01-31", 10), ("x", "2027-03-30", 4), ("x", "2027-06-15", 1)]), "x"
    )
    # 31 Jan + 2 months = 31 March: a purchase on 30 March resets the clock to 30 May.
    assert [(m["month"], m["expired"]) for m in months] == [
        ("2027-01", 0),
        ("2027-02", 0),
        ("2027-03", 0),
        ("2027-04", 0),
        ("2027-05", 14),
        ("2027-06", 0),
    ]


def test_auto_redemption_with_minimum_balance_and_fifo() -> None:
    policy = program(
        {
            "type": "points",
            **BASE,
            "rewards": {
                "catalog": [{"id": "five", "kind": "discount", "cost": 500, "face_value": 5}],
                "redemption": {"policy": "auto", "default": "five", "min_balance": 50},
            },
            "expiry": [{"kind": "rolling", "after": "3 months"}],
        }
    )
    result = replay(
        policy,
        [
            ("x", "2027-01-10", 400),
            ("x", "2027-02-10", 400),
            ("x", "2027-03-10", 700),
            ("x", "2027-07-01", 1),
        ],
    )
    months = monthly(result, "x")
    # Feb: 800 → redeem 500 (keep ≥ 50) → 300 left, all from January's lot (FIFO).
    # Mar: +700 → 1000 → redeem 500 twice? 1000 - 50 = 950 → one reward → 500 left.
    # 10 April: January's lot has nothing left; February's 400 - 100 (taken in March) = 300... see ledger.
    assert [(m["month"], m["earned"], m["redeemed"], m["balance"]) for m in months[:3]] == [
        ("2027-01", 400, 0, 400),
        ("2027-02", 400, 500, 300),
        ("2027-03", 700, 500, 500),
    ]
    # FIFO: Feb redemption took Jan's 400 + 100 of Feb's; Mar took Feb's 300 + 200 of Mar's.
    # Expiry at the end of 9 May (Feb lot): 0 left; end of 9 June (Mar lot): 500 left → expires.
    assert {m["month"]: m["expired"] for m in months}.get("2027-05") == 0
    assert {m["month"]: m["expired"] for m in months}.get("2027-06") == 500


def test_per_period_cap_resets_each_period() -> None:
    policy = program(
        {
            "type": "points",
            "points": {"name": "p", "value": 0.01},
            "rewards": REWARD_500,
            "earn": [
                {
                    "id": "a",
                    "kind": "spend",
                    "rate": 1,
                    "cap": {"per_period": {"points": 100, "period": "month"}},
                }
            ],
        }
    )
    months = monthly(
        replay(
            policy,
            [
                ("x", "2027-01-01", 60),
                ("x", "2027-01-02", 60),
                ("x", "2027-01-03", 60),
                ("x", "2027-02-01", 60),
            ],
        ),
        "x",
    )
    assert [m["earned"] for m in months] == [100, 60]


def test_once_per_member_bonus() -> None:
    policy = program(
        {
            "type": "points",
            **BASE,
            "rewards": REWARD_500,
            "campaigns": [
                {
                    "id": "w",
                    "start": "2027-01-01",
                    "end": "2027-12-31",
                    "kind": "bonus",
                    "points": 100,
                    "once_per_member": True,
                }
            ],
        }
    )
    months = monthly(replay(policy, [("x", "2027-01-01", 10), ("x", "2027-01-05", 10)]), "x")
    assert months[0]["earned"] == 10 + 100 + 10


def test_returns_full_partial_and_beyond_the_balance() -> None:
    policy = program(
        {
            "type": "points",
            **BASE,
            "rewards": {
                "catalog": [{"id": "five", "kind": "discount", "cost": 100, "face_value": 1}],
                "redemption": {"policy": "auto", "default": "five"},
            },
        }
    )
    result = replay(
        policy,
        [
            ("x", "2027-01-05", 150, "purchase", "t1"),  # +150 → auto-redeem 100 → 50
            ("x", "2027-02-05", 150, "return", "t1"),  # -150: 50 from balance, 100 owed (debt)
            ("x", "2027-03-05", 130, "purchase", "t2"),  # +130: repays 100 → 30
            ("x", "2027-03-06", 30, "return", "t2"),  # partial: 100 left earns 100 → reverse 30 → 0
        ],
    )
    months = monthly(result, "x")
    assert [(m["earned"], m["redeemed"], m["balance"]) for m in months] == [
        (150, 100, 50),
        (-150, 0, -100),
        (100, 0, 0),
    ]
    assert result.rejected == []


def test_a_return_without_its_purchase_is_rejected_with_its_row() -> None:
    policy = program({"type": "points", **BASE, "rewards": REWARD_500})
    result = replay(
        policy,
        [
            ("x", "2027-01-05", 10, "purchase", "t1"),
            ("x", "2027-01-06", 10, "return", "zz"),
            ("y", "2027-01-07", 5, "return", "t1"),
            ("x", "2027-01-08", 20, "return", "t1"),
        ],
    )
    messages = sorted((e.row, e.column) for e in result.rejected)
    assert messages == [(3, "transaction_id"), (4, "transaction_id"), (5, "amount")]
    # The amount as the file wrote it (20.00), not in minor units (2000), beside the purchase's.
    too_much = next(e for e in result.rejected if e.row == 5)
    assert too_much.value == "20.00" and "(10.00)" in too_much.message
    assert "belongs to another customer" in next(e.message for e in result.rejected if e.row == 4)


def test_cashback_and_dividend_accrue_monthly() -> None:
    policy = program(
        {
            "type": "hybrid",
            "cashback": {"rates": [{"rate": 0.01}]},
            "value": {"dividend": {"rate": 0.1, "eligible": {"exclude_category": ["sale"]}}},
        }
    )
    result = replay(
        policy,
        [("x", "2027-01-05", 100, "purchase", "", "food"), ("x", "2027-01-06", 50, "purchase", "", "sale")],
    )
    (rows,) = result.months
    assert rows.cashback.tolist() == [150] and rows.dividend.tolist() == [1000]


def test_conservation_for_every_customer_and_month_on_canonical_programs() -> None:
    import numpy as np

    from loyalsim.compile import load_policy
    from tests.conftest import PROGRAMS

    rng = np.random.default_rng(3)
    rows = []
    for i in range(300):
        day = int(rng.integers(0, 700))
        rows.append(
            (f"c{i % 40}", str(np.datetime64("2027-01-01") + day), float(rng.integers(1, 40000)) / 100)
        )
    for path in PROGRAMS:
        policy = load_policy(path)
        result = replay(policy, rows, redeem="auto")
        previous: dict[int, int] = {}
        for month in result.months:
            for i, customer in enumerate(month.customer.tolist()):
                before = previous.get(customer, 0)
                after = before + int(month.earned[i]) - int(month.redeemed[i]) - int(month.expired[i])
                assert after == int(month.balance[i]), (path.name, customer)
                previous[customer] = after
        assert result.ledger is not None
        cohorts = result.cohorts
        outstanding = result.ledger.outstanding_by_cohort()
        for cohort, issued in cohorts.issued.items():
            assert issued == (
                cohorts.redeemed.get(cohort, 0)
                + cohorts.expired.get(cohort, 0)
                + cohorts.reversed.get(cohort, 0)
                + outstanding.get(cohort, 0)
            )


def test_day_order_is_the_stable_order_by_day_whatever_the_span() -> None:
    from loyalsim.transactions.reader import day_order

    rng = np.random.default_rng(3)
    for days in (
        rng.integers(20_000, 20_030, 5_000),
        np.array([5, 3, 5, 3, 4]),
        np.array([0, 10**9, 5, 0]),
        np.zeros(0, dtype=np.int64),
    ):  # the last but one: a comparison sort
        assert day_order(days).tolist() == np.argsort(days, kind="stable").tolist()


def test_rows_of_one_customer_on_one_day_are_ranked_by_content_not_file_position() -> None:
    from loyalsim.transactions.reader import order_within_day

    tx = transactions(
        [
            ("b", "2027-01-05", "9.00"),
            ("a", "2027-01-05", "30.00"),
            ("b", "2027-01-05", "2.00"),
            ("c", "2027-01-05", "1.00"),
            ("a", "2027-01-05", "10.00"),
        ]
    )
    count = np.zeros(len(tx.customer_ids), dtype=np.int64)
    rows, rank = order_within_day(tx, np.arange(len(tx)), count)
    by_row = dict(zip((tx.amount[rows]).tolist(), rank.tolist(), strict=True))
    assert by_row == {200: 0, 900: 1, 1000: 0, 3000: 1, 100: 0}  # smaller amount first, then larger
    assert not count.any()  # the scratch space is left as it was found


def test_points_credited_before_a_customers_first_purchase_count_once_in_their_first_month() -> None:
    """A simulation may credit points (a referral's, an action's) to a customer with no purchase
    yet: no month row shows them until the customer's first, where they count, once."""
    from loyalsim.replay.engine import ReplayEngine

    policy = program({"type": "points", **BASE, "rewards": REWARD_500})
    tx = transactions([("a", "2027-01-10", 10.0), ("b", "2027-03-05", 20.0), ("a", "2027-03-06", 1.0)])
    engine = ReplayEngine(policy, tx.customer_ids)
    engine.run(tx.subset(slice(0, 1)))
    engine._credit(np.array([1]), np.array([700]), int(tx.day[0]))  # b: not started yet
    engine.run(tx.subset(slice(1, None)))
    result = engine.finish()
    assert [(m["month"], m["earned"]) for m in monthly(result, "b")] == [("2027-03", 720)]
    assert [m["earned"] for m in monthly(result, "a")] == [10, 0, 1]
    assert result.total_earned.tolist() == [11, 720]


def test_members_who_choose_are_asked_in_customer_order_once_each_day() -> None:
    """A simulation's chooser draws at random per customer, in the order it is given them: the
    day's customers come to it in customer order, whatever order they bought in, each once."""
    from loyalsim.replay.engine import ReplayEngine

    policy = program(
        {
            "type": "points",
            **BASE,
            "rewards": {
                "catalog": [{"id": "five", "kind": "discount", "cost": 500, "face_value": 5}],
                "redemption": {"policy": "choice", "default": "five"},
            },
        }
    )
    asked: list[tuple[int, list[int]]] = []

    def chooser(customers: np.ndarray, day: int) -> np.ndarray:  # type: ignore[type-arg]
        asked.append((day, customers.tolist()))
        return np.ones(customers.size, dtype=bool)

    tx = transactions(
        [
            ("d", "2027-01-10", 600.0),
            ("b", "2027-01-10", 700.0),
            ("d", "2027-01-10", 5.0),
            ("a", "2027-01-10", 800.0),
            ("c", "2027-01-10", 1.0),
            ("b", "2027-01-11", 900.0),
        ]
    )
    engine = ReplayEngine(policy, tx.customer_ids, chooser=chooser)
    engine.run(tx)
    result = engine.finish()
    first = int(tx.day[0])
    # c cannot afford a reward: it is not asked. b is asked again the next day.
    assert asked == [(first, [0, 1, 3]), (first + 1, [1])]
    assert result.total_redeemed.tolist() == [500, 1000, 0, 500]


def _money(result, column: str) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    """Each customer's monthly cashback or dividend, in minor units."""
    out: dict[str, list[int]] = {}
    for rows in result.months:
        for i, customer in enumerate(rows.customer.tolist()):
            out.setdefault(str(result.customer_ids[customer]), []).append(int(getattr(rows, column)[i]))
    return out


CASHBACK = {
    "type": "cashback",
    "points": {"name": "p", "value": 0.01},
    "cashback": {
        "rates": [{"rate": 0.05, "when": {"category": ["own_brand"]}}, {"rate": 0.01}],
        "payout": {"threshold": 1.00, "form": "store_credit", "schedule": "on_request"},
    },
}


def test_returns_reverse_the_cashback_their_purchase_accrued() -> None:
    policy = program(CASHBACK)
    result = replay(
        policy,
        [
            ("a", "2027-01-10", 100.00, "purchase", "t1", "own_brand"),  # 5.00
            ("a", "2027-01-12", 100.00, "return", "t1"),  # all of it back: 0
            ("b", "2027-01-10", 99.99, "purchase", "t2", "own_brand"),  # 4.99
            ("b", "2027-01-20", 50.00, "return", "t2"),  # 49.99 left accrues 2.49: back 2.50
            ("b", "2027-02-03", 49.99, "return", "t2"),  # nothing left: the other 2.49
            ("c", "2027-01-10", 30.00, "purchase", "t3", "food"),  # 0.30
            ("c", "2027-02-10", 30.00, "return", "t3"),  # in February: -0.30 there
        ],
    )
    assert result.rejected == []
    assert _money(result, "cashback") == {"a": [0, 0], "b": [499 - 250, -249], "c": [30, -30]}


def test_returns_reverse_the_dividend_their_purchase_accrued() -> None:
    policy = program(
        {
            "type": "value",
            "points": {"name": "p", "value": 0.01},
            "value": {"dividend": {"rate": 0.10, "eligible": {"exclude_category": ["sale"]}}},
        }
    )
    result = replay(
        policy,
        [
            ("a", "2027-01-10", 200.00, "purchase", "t1"),  # 20.00
            ("a", "2027-01-25", 200.00, "return", "t1"),  # same month: 0
            ("b", "2027-01-10", 200.00, "purchase", "t2"),  # 20.00
            ("b", "2027-01-25", 50.05, "return", "t2"),  # 149.95 left accrues 14.99: back 5.01
            ("s", "2027-01-10", 80.00, "purchase", "t3", "sale"),  # not eligible: nothing to reverse
            ("s", "2027-01-11", 80.00, "return", "t3"),
        ],
    )
    assert result.rejected == []
    assert _money(result, "dividend") == {"a": [0], "b": [2000 - 501], "s": [0]}


def test_to_month_end_keeps_points_through_the_month_of_their_anniversary() -> None:
    def expired_in(to_month_end: bool) -> str:
        rule = {"kind": "rolling", "after": "6 months", "to_month_end": to_month_end}
        policy = program({"type": "points", **BASE, "rewards": REWARD_500, "expiry": [rule]})
        result = replay(policy, [("x", "2027-03-01", 10), ("x", "2027-12-01", 1)])
        return next(m["month"] for m in monthly(result, "x") if m["expired"])

    # Earned 1 March, six months: the anniversary is 1 September.
    assert expired_in(False) == "2027-08"  # usable through 31 August
    assert expired_in(True) == "2027-09"  # through the end of September, the anniversary's month
