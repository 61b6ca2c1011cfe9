"""Finance figures from a simulated replication: liability at cost and IFRS 15 deferral.

Where: stage 6 (finance), applied to the simulator's monthly results.

- Expected redemption rate (ERR), month by month: of the points whose fate is known so far
  (redeemed or expired), the share redeemed — the simulation's own experience, as an
  actuary would estimate it; 1 (no breakage assumed) until any point is resolved.
  Breakage is 1 − ERR.
- Liability at cost = outstanding points × value per point × cost of a reward per unit of
  face value (``economics.reward_cost_ratio``, default 1) × ERR.
- Deferred revenue: :func:`loyalsim.finance.ifrs15.account` with each month's sales to
  members, points issued and redeemed, the month's ERR and the program's point value.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from loyalsim.compile.policy import Policy
from loyalsim.finance.ifrs15 import PeriodInput, account
from loyalsim.simulate import MonthResult


@dataclass(frozen=True)
class FinanceMonth:
    month: int
    expected_redemption_rate: float
    breakage: float
    liability_at_cost: float  # currency
    contract_liability: float  # currency
    points_revenue: float  # currency, recognised this month
    allocated_to_points: float  # currency, deferred this month


def forecast(policy: Policy, months: list[MonthResult], reward_cost_ratio: float = 1.0) -> list[FinanceMonth]:
    """Finance figures for one replication's program arm, month by month."""
    program = [m for m in months if m.arm == "program"]
    value = policy.points.value.decimal
    scale = Decimal(policy.scale)
    redeemed = expired = 0
    rates = []
    for m in program:
        redeemed += m.points_redeemed
        expired += m.points_expired
        rates.append(redeemed / (redeemed + expired) if (redeemed + expired) else 1.0)
    if value > 0:
        periods = [PeriodInput(str(m.month), Decimal(m.member_revenue) / policy.money_unit,
                               Decimal(max(m.points_issued, 0)) / scale, Decimal(m.points_redeemed) / scale,
                               Decimal(str(max(rate, 1e-6))), value)
                   for m, rate in zip(program, rates, strict=True)]
        accounted = account(periods)
    else:
        accounted = []
    out = []
    for i, (m, rate) in enumerate(zip(program, rates, strict=True)):
        liability = float(Decimal(m.points_outstanding) / scale * value) * reward_cost_ratio * rate
        booked = accounted[i] if accounted else None
        out.append(FinanceMonth(
            m.month, rate, 1 - rate, liability,
            float(booked.contract_liability) if booked else 0.0,
            float(booked.points_revenue) if booked else 0.0,
            float(booked.allocated_to_points) if booked else 0.0,
        ))
    return out
