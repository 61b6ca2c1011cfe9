"""Finance figures from a simulated replication: liability, IFRS 15 deferral, payables, cost and return.

Where: the finance stage, applied to the monthly figures of one replication's program and
control arms (any records with :class:`MonthFigures`' attributes: the simulator's are one).
Every figure is in the program's currency, per month.

- Expected redemption rate (ERR): from the simulation's own cohort run-off
  (:mod:`loyalsim.finance.cohorts`, chain-ladder); breakage = 1 − ERR.
- Liability at cost = outstanding points × value per point × ``reward_cost_ratio`` × ERR.
- IFRS 15: :func:`loyalsim.finance.ifrs15.account` with each month's sales to members,
  points issued and redeemed, that month's ERR and the point value → revenue allocated to
  points (deferred), points revenue recognised, contract liability.
- Cashback and dividends: accrued, paid, expired and payable as the simulator's ledgers
  record them per member and accrual month (:mod:`loyalsim.simulate.cashback`: payout
  schedules and thresholds, claims on request, expiry of what is unpaid).
- Reward cost = points redeemed for rewards × value per point × ``reward_cost_ratio`` (cash
  basis); points members convert into donations are costed as the donation instead.
- Donations = the company's per-purchase gifts + what members' points convert into + the
  company's match. Perk cost = membership perks used on purchases (discounts, free shipping
  or items) + yearly perks (membership ``other`` perks per subscriber, tier perks per member
  of the level) accrued a twelfth a month, rounded half-even to the minor unit.
- Program cost (accrual basis) = reward cost + change in liability at cost + cashback
  accrued less cashback expired + dividends accrued + referral credits and discounts + reminders sent + donations
  + perk cost + ``fixed_costs_per_month``: over the horizon it totals what was spent
  on rewards plus what is still owed at cost at the end.
- Membership fees: billed at the start of each paid period; recognised evenly over the
  period (:mod:`loyalsim.simulate.membership`); deferred fee revenue = billed − recognised.
- Incremental gross margin = (program-arm revenue − control revenue) × ``gross_margin``
  + membership fee revenue recognised.
- Net benefit = incremental gross margin − program cost. ROI (over a horizon) = total net
  benefit / total program cost. Present values discount month m (1 = first) by
  (1 + ``discount_rate``)^(−m/12), i.e. at the month's end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from loyalsim.compile.policy import Policy
from loyalsim.finance.cohorts import Row, expected_redemption_rates
from loyalsim.finance.ifrs15 import PeriodInput, account


class MonthFigures(Protocol):
    """A month of one arm, as finance reads it: counts, points units and minor units, by name.

    The simulator's ``MonthResult`` is one; any record with these attributes can be forecast.
    """

    @property
    def month(self) -> int: ...
    @property
    def arm(self) -> str: ...
    @property
    def revenue(self) -> int: ...
    @property
    def member_revenue(self) -> int: ...
    @property
    def points_issued(self) -> int: ...
    @property
    def points_redeemed(self) -> int: ...
    @property
    def points_expired(self) -> int: ...
    @property
    def points_outstanding(self) -> int: ...
    @property
    def points_donated(self) -> int: ...
    @property
    def cashback_accrued(self) -> int: ...
    @property
    def cashback_expired(self) -> int: ...
    @property
    def cashback_paid(self) -> int: ...
    @property
    def cashback_payable(self) -> int: ...
    @property
    def dividend_accrued(self) -> int: ...
    @property
    def dividend_paid(self) -> int: ...
    @property
    def dividend_payable(self) -> int: ...
    @property
    def fees_billed(self) -> int: ...
    @property
    def fees_recognised(self) -> int: ...
    @property
    def referral_cost(self) -> int: ...
    @property
    def reminder_cost(self) -> int: ...
    @property
    def donations(self) -> int: ...
    @property
    def donations_matched(self) -> int: ...
    @property
    def perk_cost(self) -> int: ...


@dataclass(frozen=True)
class FinanceMonth:
    month: int
    expected_redemption_rate: float
    breakage: float
    liability_at_cost: float
    contract_liability: float
    points_revenue: float  # recognised this month
    allocated_to_points: float  # deferred this month
    cashback_accrued: float
    cashback_expired: float
    cashback_paid: float
    cashback_payable: float
    dividend_accrued: float
    dividend_paid: float
    dividend_payable: float
    fees_billed: float
    fee_revenue: float  # membership fees recognised this month (over each paid period)
    deferred_fee_revenue: float  # billed, not yet recognised, at month end
    reward_cost: float
    referral_cost: float
    reminder_cost: float
    donations: float
    donations_matched: float  # part of donations: what the company added to members' donations
    perk_cost: float
    fixed_costs: float
    program_cost: float
    incremental_revenue: float
    incremental_gross_margin: float
    net_benefit: float
    discount_factor: float


def forecast(
    policy: Policy,
    months: Sequence[MonthFigures],
    economics: dict[str, float] | None = None,
    cohorts: list[Row] | None = None,
    history: Sequence[MonthFigures] = (),
) -> list[FinanceMonth]:
    """Finance figures for one replication's program arm, month by month.

    ``history``: a running book's months before the forecast (program arm). The stocks run on
    from them — the liability whose change is a month's cost, the IFRS 15 contract liability,
    deferred fees — so the first forecast month is charged what it adds, not the whole opening
    book; only the forecast's months are returned, discounted from the first of them."""
    economics = economics or {}
    cost_ratio = economics.get("reward_cost_ratio", 1.0)
    margin = economics.get("gross_margin", 0.0)
    fixed = economics.get("fixed_costs_per_month", 0.0)
    discount = economics.get("discount_rate", 0.0)
    program = [m for m in history if m.arm == "program"] + [m for m in months if m.arm == "program"]
    before = len(program) - len([m for m in months if m.arm == "program"])
    control = {m.month: m for m in months if m.arm == "control"}
    value = policy.points.value.decimal
    scale = Decimal(policy.scale)
    unit = policy.money_unit
    rates = _rates(program, cohorts)
    accounted = (
        account(
            [
                PeriodInput(
                    str(m.month),
                    Decimal(m.member_revenue) / unit,
                    Decimal(max(m.points_issued, 0)) / scale,
                    Decimal(m.points_redeemed) / scale,
                    Decimal(str(max(rate, 1e-6))),
                    value,
                )
                for m, rate in zip(program, rates, strict=True)
            ]
        )
        if value > 0
        else []
    )
    deferred_fees = 0.0
    previous_liability = 0.0
    out = []
    for i, (m, rate) in enumerate(zip(program, rates, strict=True)):
        liability = float(Decimal(m.points_outstanding) / scale * value) * cost_ratio * rate
        booked = accounted[i] if accounted else None
        cashback_accrued, cashback_expired = m.cashback_accrued / unit, m.cashback_expired / unit
        dividend_accrued = m.dividend_accrued / unit
        fees_billed, fee_revenue = m.fees_billed / unit, m.fees_recognised / unit
        deferred_fees += fees_billed - fee_revenue
        reward_cost = float(Decimal(m.points_redeemed - m.points_donated) / scale * value) * cost_ratio
        referral_cost, reminder_cost, donations = (
            m.referral_cost / unit,
            m.reminder_cost / unit,
            m.donations / unit,
        )
        perk_cost = m.perk_cost / unit
        cost = (
            reward_cost
            + (liability - previous_liability)
            + cashback_accrued
            - cashback_expired
            + dividend_accrued
            + referral_cost
            + reminder_cost
            + donations
            + perk_cost
            + fixed
        )
        previous_liability = liability
        incremental = (m.revenue - control[m.month].revenue) / unit if m.month in control else 0.0
        out.append(
            FinanceMonth(
                m.month,
                rate,
                1 - rate,
                liability,
                float(booked.contract_liability) if booked else 0.0,
                float(booked.points_revenue) if booked else 0.0,
                float(booked.allocated_to_points) if booked else 0.0,
                cashback_accrued,
                cashback_expired,
                m.cashback_paid / unit,
                m.cashback_payable / unit,
                dividend_accrued,
                m.dividend_paid / unit,
                m.dividend_payable / unit,
                fees_billed,
                fee_revenue,
                deferred_fees,
                reward_cost,
                referral_cost,
                reminder_cost,
                donations,
                m.donations_matched / unit,
                perk_cost,
                fixed,
                cost,
                incremental,
                incremental * margin + fee_revenue,
                incremental * margin + fee_revenue - cost,
                (1 + discount) ** (-(i - before + 1) / 12),
            )
        )
    return out[before:]


def _rates(program: list[MonthFigures], cohorts: list[Row] | None) -> list[float]:
    """ERR per month: chain-ladder on the cohort run-off when recorded, else the resolved share."""
    if cohorts:
        # The run-off may begin before the months forecast (a running program's history): the
        # chain ladder reads all of it.
        months = sorted({row[0] for row in cohorts} | {m.month for m in program})
        at = dict(zip(months, expected_redemption_rates(cohorts, months), strict=True))
        return [at[m.month] for m in program]
    redeemed = expired = 0
    rates = []
    for m in program:
        redeemed += m.points_redeemed
        expired += m.points_expired
        rates.append(redeemed / (redeemed + expired) if (redeemed + expired) else 1.0)
    return rates
