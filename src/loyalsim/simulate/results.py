"""What one replication returns: a row per arm and month, cohort run-off, a watched customer's story.

Where: the simulate stage; ``run`` merges replications and ``report`` writes them.
Amounts are integers in minor units and points units, as the replay engine keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


@dataclass
class MonthResult:
    month: int
    arm: str
    customers: int  # alive (born and not dropped out) at month end
    members: int
    purchases: int
    revenue: int  # minor units
    points_issued: int = 0
    points_redeemed: int = 0
    points_expired: int = 0
    points_outstanding: int = 0
    member_revenue: int = 0  # minor units: sales to members, which grant points
    cashback_accrued: int = 0  # minor units earned by members this month
    dividend_accrued: int = 0  # minor units of dividend earned on this month's eligible spend
    cashback_paid: int = 0  # minor units paid out (schedule) or claimed (on request) this month
    cashback_expired: int = 0  # minor units of unpaid cashback that expired this month
    cashback_payable: int = 0  # minor units owed to members at month end
    dividend_paid: int = 0
    dividend_payable: int = 0
    subscribers: int = 0  # paid memberships (trial included) active at month end
    fees_billed: int = 0  # minor units
    fees_recognised: int = 0  # minor units of fee revenue earned this month (over each paid period)
    memberships_started: int = 0
    memberships_cancelled: int = 0
    referrals: int = 0  # new customers brought in by members this month (program arm)
    referral_cost: int = 0  # minor units: credits and discounts given for referrals
    community_actions: int = 0  # community actions taken by members this month (program arm)
    donations: int = (
        0  # minor units the company gives to the program's cause: per purchase, points converted, match
    )
    points_donated: int = 0  # points units members converted into donations (part of points_redeemed)
    donations_matched: int = 0  # minor units the company added to members' donations
    perk_cost: int = (
        0  # minor units: membership perks used on purchases, and yearly perks (membership, tiers)
    )
    reminders_sent: int = 0
    reminder_cost: int = 0  # minor units
    prompted: int = 0  # purchases or redemptions prompted by reminders this month
    tier_counts: list[int] = field(default_factory=list)  # active members by tier level at month end


@dataclass
class Replication:
    index: int
    months: list[MonthResult] = field(default_factory=list)
    customers: int = 0
    story: list[dict[str, Any]] = field(default_factory=list)  # events of the watched customer, if any
    repeat_purchases_control: IntArray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )  # per customer
    # Cumulative points per earn cohort at each month end: (month, cohort, issued, redeemed, expired).
    cohorts: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    # The same for cashback and dividends, in minor units: (month, cohort, accrued, paid, expired).
    cashback_cohorts: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    dividend_cohorts: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    # A running program's book at the end of its history (month, points_outstanding in points
    # units, members with a balance or a purchase): the forecast's month 0. Empty otherwise.
    opening: dict[str, int] = field(default_factory=dict)
    # The same book's months before the forecast (program arm): what finance runs on from.
    history: list[MonthResult] = field(default_factory=list)


@dataclass
class Synthetic:
    """The program arm's purchases of one replication and who enrolled when: what ``simulate
    --transactions`` writes (``report.synthetic``)."""

    customer: IntArray  # the simulation's customer numbers, one per purchase, in day order
    day: IntArray  # absolute day numbers
    amount: IntArray  # minor units
    category: IntArray | None  # codes into ``categories`` (-1: none), None: no basket drawn
    channel: IntArray | None
    categories: npt.NDArray[np.object_]
    channels: npt.NDArray[np.object_]
    members: IntArray  # customers who enrolled within the horizon (or before it)
    enrolled_on: IntArray  # their enrolment days (absolute)
    ids: npt.NDArray[np.object_]  # each simulated customer's id in the files
