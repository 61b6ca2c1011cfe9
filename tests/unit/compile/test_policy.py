"""Compiled mechanics: multipliers, campaigns, conditions, caps, non-spend rules, compile issues."""

from __future__ import annotations

import numpy as np
import pytest

from loyalsim.compile.calendar import day_number
from loyalsim.errors import InvalidDocumentError
from tests.helpers import program

REWARDS = {"catalog": [{"id": "r", "kind": "discount", "cost": 100, "face_value": 1}]}


def earn(policy, amounts, tiers=None, days=None, categories=None, channels=None):  # type: ignore[no-untyped-def]
    minor = np.array([round(a * 100) for a in amounts], dtype=np.int64)
    n = minor.size
    tier = np.array(tiers if tiers is not None else [0] * n, dtype=np.int64)
    day = np.array([day_number(d) for d in days] if days else [0] * n, dtype=np.int64)
    cat = policy.vocabulary.category_codes(categories, n) if categories else None
    chan = policy.vocabulary.channel_codes(channels, n) if channels else None
    return (policy.earn_points(minor, tier, day, cat, chan).total // policy.scale).tolist()


def test_tier_and_campaign_multipliers_combine_before_rounding() -> None:
    policy = program(
        {
            "type": "tiered",
            "points": {"name": "p", "value": 0.01, "rounding": "floor_points"},
            "earn": [{"id": "base", "kind": "spend", "rate": 1}],
            "tiers": {
                "metric": "spend",
                "window": {"kind": "lifetime"},
                "levels": [
                    {"id": "a", "threshold": 0},
                    {"id": "b", "threshold": 100, "benefits": {"earn_multiplier": 1.5}},
                ],
            },
            "campaigns": [
                {"id": "x", "start": "2027-03-01", "end": "2027-03-31", "kind": "multiplier", "multiplier": 2}
            ],
        }
    )
    # 10.50 × 1.5 = 15.75 → 15; × 2 in March = 31.5 → 31 (rounded once, not 15 × 2 = 30)
    assert earn(
        policy,
        [10.5, 10.5, 10.5, 10.5],
        tiers=[0, 1, 1, 1],
        days=["2027-02-28", "2027-02-28", "2027-03-01", "2027-04-01"],
    ) == [10, 15, 31, 15]


def test_campaign_targets_only_named_rules_and_bonus_campaigns() -> None:
    policy = program(
        {
            "type": "points",
            "points": {"name": "p", "value": 0.01},
            "rewards": REWARDS,
            "earn": [{"id": "a", "kind": "spend", "rate": 1}, {"id": "v", "kind": "visit", "points": 5}],
            "campaigns": [
                {
                    "id": "m",
                    "start": "2027-01-01",
                    "end": "2027-01-31",
                    "kind": "multiplier",
                    "multiplier": 3,
                    "rules": ["v"],
                },
                {
                    "id": "b",
                    "start": "2027-01-10",
                    "end": "2027-01-10",
                    "kind": "bonus",
                    "points": 50,
                    "when": {"min_spend": 20},
                },
            ],
        }
    )
    # 10 (spend, not targeted) + 15 (visit × 3) on Jan 9; +50 bonus on Jan 10 only from $20
    assert earn(policy, [10, 10, 20], days=["2027-01-09", "2027-01-10", "2027-01-10"]) == [25, 25, 85]


def test_conditions_on_category_channel_min_spend_and_tier() -> None:
    policy = program(
        {
            "type": "tiered",
            "points": {"name": "p", "value": 0.01},
            "earn": [
                {
                    "id": "own",
                    "kind": "spend",
                    "rate": 5,
                    "when": {"category": ["own_brand"], "channel": ["app"]},
                },
                {"id": "vip", "kind": "visit", "points": 7, "when": {"tiers": ["b"], "min_spend": 30}},
                {"id": "rest", "kind": "spend", "rate": 1, "when": {"exclude_category": ["tobacco"]}},
            ],
            "tiers": {
                "metric": "spend",
                "window": {"kind": "lifetime"},
                "levels": [{"id": "a", "threshold": 0}, {"id": "b", "threshold": 100}],
            },
        }
    )
    got = earn(
        policy,
        [10, 10, 10, 40, 40],
        tiers=[0, 0, 0, 1, 0],
        categories=["own_brand", "own_brand", "tobacco", "food", "food"],
        channels=["app", "store", "app", "store", "store"],
    )
    assert got == [60, 10, 0, 47, 40]


def test_per_transaction_cap_and_item_rules() -> None:
    policy = program(
        {
            "type": "points",
            "points": {"name": "p", "value": 0.01},
            "rewards": REWARDS,
            "earn": [{"id": "a", "kind": "spend", "rate": 2, "cap": {"per_transaction": 150}}],
        }
    )
    assert earn(policy, [50, 75, 200]) == [100, 150, 150]
    items = program(
        {
            "type": "points",
            "points": {"name": "p", "value": 0.01},
            "rewards": REWARDS,
            "earn": [{"id": "i", "kind": "item", "points": 3}],
        }
    )
    units = items.earn_points(
        np.array([500, 500]),
        np.zeros(2, dtype=np.int64),
        np.zeros(2, dtype=np.int64),
        quantity=np.array([1, 4]),
    )
    assert units.total.tolist() == [3, 12]


def test_cashback_first_matching_rate_and_rounding_down() -> None:
    policy = program(
        {
            "type": "cashback",
            "cashback": {
                "rates": [{"rate": 0.05, "when": {"category": ["own_brand"]}}, {"rate": 0.01, "cap": 0.50}]
            },
        }
    )
    assert policy.cashback is not None
    amount = np.array([1999, 1999, 3999, 60000], dtype=np.int64)
    codes = policy.vocabulary.category_codes(["own_brand", "food", "food", "food"], 4)
    zeros = np.zeros(4, dtype=np.int64)
    # 5% of 19.99 = 0.9995 → 0.99; 1% of 19.99 → 0.19; 1% of 39.99 → 0.39; 1% of 600 = 6 → capped 0.50
    assert policy.cashback.accrue(amount, zeros, codes, zeros).tolist() == [99, 19, 39, 50]


def test_rates_with_too_many_decimals_are_a_located_compile_error() -> None:
    with pytest.raises(InvalidDocumentError) as caught:
        program(
            {
                "type": "points",
                "points": {"name": "p", "value": 0.01},
                "rewards": REWARDS,
                "earn": [{"id": "a", "kind": "spend", "rate": 0.1234567}],
            }
        )
    (issue,) = caught.value.issues
    assert issue.code == "LS240" and issue.path == ("earn", 0, "rate") and issue.line >= 1


def test_invalid_programs_do_not_compile() -> None:
    with pytest.raises(InvalidDocumentError) as caught:
        program({"type": "points", "earn": [{"id": "a", "kind": "spend", "rate": 1}]})
    assert {i.code for i in caught.value.issues} == {"LS210"}


def test_every_canonical_program_compiles_with_a_content_hash() -> None:
    from loyalsim.compile import load_policy
    from tests.conftest import PROGRAMS

    hashes = {load_policy(p).content_hash for p in PROGRAMS}
    assert len(hashes) == len(PROGRAMS) and all(len(h) == 64 for h in hashes)


def test_membership_perks_multiply_subscribers_earn_and_cost_what_they_say() -> None:
    policy = program(
        {
            "type": "paid",
            "points": {"name": "p", "value": 0.01, "rounding": "floor_points"},
            "earn": [{"id": "base", "kind": "spend", "rate": 1}],
            "membership": {
                "plans": [{"id": "m", "fee": 10, "period": "1 month"}],
                "perks": [
                    {"kind": "earn_multiplier", "multiplier": 1.5, "when": {"min_spend": 20}},
                    {"kind": "discount", "rate": 0.05},
                    {"kind": "free_shipping", "value": 5.99, "when": {"min_spend": 35}},
                    {"kind": "other", "value": 36},
                    {"kind": "bonus_points", "points": 100},
                ],
            },
        }
    )
    amounts = np.array([1999, 2000, 3499, 3500, 1])  # $19.99, $20.00, $34.99, $35.00, $0.01
    zeros = np.zeros(5, dtype=np.int64)
    earned = policy.earn_points(amounts, zeros, zeros)
    # 1 point a dollar, x1.5 from $20, rounded down once after the multiplier: 19.99 → 19; 30; 34.99 x 1.5 =
    # 52.485 → 52; 35 x 1.5 = 52.5 → 52; $0.01 → 0.
    assert earned.total.tolist() == [19, 30, 52, 52, 0]
    membership = policy.membership
    assert membership is not None
    ties = np.array([1010, 1030])  # 5% of $10.10 = 50.5 cents, of $10.30 = 51.5 cents
    none = np.full(7, -1, dtype=np.int64)  # no category, no channel
    cost = membership.purchase_cost(np.concatenate((amounts, ties)), np.zeros(7, dtype=np.int64), none, none)
    # 5% rounded half-even to the cent: 99.95 → 100, 100, 174.95 → 175, 175; $0.01 → 0.05 → 0; ties 50.5 → 50 and
    # 51.5 → 52; plus $5.99 of free shipping from $35.
    assert cost.tolist() == [100, 100, 175, 175 + 599, 0, 50, 52]
    assert (membership.yearly_cost, membership.period_points) == (3600, 100)
