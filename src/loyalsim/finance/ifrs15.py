"""IFRS 15 / ASC 606 accounting for loyalty points (a material right), period by period.

Where: the finance stage; ``loyalsim account`` applies it to a finance team's own figures,
and the simulator's finance reports will apply it to simulated ones.

Method (IFRS 15 B39-B43 and Illustrative Example 52):
1. Each period's sales are allocated between the goods and the points granted by relative
   stand-alone selling price: points are priced at points issued × point value ×
   expected redemption rate; goods at the sales amount.
2. Revenue for points is recognised as points are redeemed: cumulative revenue =
   cumulative amount allocated to points × cumulative points redeemed / points expected
   to be redeemed (cumulative points issued × the current expected redemption rate),
   capped at 100%. A change in the expected rate is a change in estimate: the next
   period's revenue carries the cumulative catch-up.
3. The contract liability is what has been allocated to points and not yet recognised.

Arithmetic is decimal. Cumulative figures are rounded to the cent (half-even) and each
period's figure is the difference of two rounded cumulative figures, so periods always
add up to the cumulative totals. Points are pooled across periods (a portfolio approach).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, getcontext

getcontext().prec = 34
CENT = Decimal("0.01")

METHOD = (
    "Each period's sales are split between the goods and the points granted with them in proportion to their "
    "stand-alone selling prices: the points' price is points issued x value per point x the share of points "
    "expected to be redeemed; the goods' price is the sales amount. The part allocated to points is deferred as "
    "a contract liability. Revenue for points is recognised as points are redeemed: to date, the amount allocated "
    "to points times the points redeemed so far over the points expected to be redeemed (all points issued so far "
    "times the current expected redemption rate). When the expected rate changes, the revenue of the period "
    "of the change includes the cumulative catch-up. Figures are rounded to the cent on cumulative totals, and "
    "each period is the difference of two cumulative totals, so periods add up."
)


@dataclass(frozen=True)
class PeriodInput:
    period: str
    sales: Decimal
    points_issued: Decimal
    points_redeemed: Decimal
    expected_redemption_rate: Decimal
    point_value: Decimal


@dataclass(frozen=True)
class PeriodResult:
    period: str
    sales: Decimal
    allocated_to_points: Decimal
    allocated_to_goods: Decimal
    points_revenue: Decimal
    contract_liability: Decimal
    cumulative_allocated_to_points: Decimal
    cumulative_points_revenue: Decimal
    cumulative_points_issued: Decimal
    cumulative_points_redeemed: Decimal
    expected_points_redeemed: Decimal
    redeemed_share: Decimal
    capped: bool

    def as_dict(self) -> dict[str, str | bool]:
        out: dict[str, str | bool] = {}
        for name, value in self.__dict__.items():
            out[name] = value if isinstance(value, bool | str) else format(value, "f")
        return out


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def account(periods: list[PeriodInput]) -> list[PeriodResult]:
    """Apply the method to periods in order."""
    results = []
    allocated_total = Decimal(0)  # unrounded
    issued = redeemed = Decimal(0)
    previous_allocated = previous_revenue = Decimal("0.00")
    for p in periods:
        ssp_points = p.points_issued * p.point_value * p.expected_redemption_rate
        share = ssp_points / (p.sales + ssp_points) if (p.sales + ssp_points) > 0 else Decimal(0)
        allocated_total += p.sales * share
        issued += p.points_issued
        redeemed += p.points_redeemed
        expected = issued * p.expected_redemption_rate
        ratio = redeemed / expected if expected > 0 else Decimal(0)
        capped = ratio > 1
        ratio = min(ratio, Decimal(1))
        cumulative_allocated = cents(allocated_total)
        cumulative_revenue = cents(allocated_total * ratio)
        allocated = cumulative_allocated - previous_allocated
        results.append(
            PeriodResult(
                period=p.period,
                sales=p.sales,
                allocated_to_points=allocated,
                allocated_to_goods=p.sales - allocated,
                points_revenue=cumulative_revenue - previous_revenue,
                contract_liability=cumulative_allocated - cumulative_revenue,
                cumulative_allocated_to_points=cumulative_allocated,
                cumulative_points_revenue=cumulative_revenue,
                cumulative_points_issued=issued,
                cumulative_points_redeemed=redeemed,
                expected_points_redeemed=expected,
                redeemed_share=ratio.quantize(Decimal("0.000001")),
                capped=capped,
            )
        )
        previous_allocated, previous_revenue = cumulative_allocated, cumulative_revenue
    return results
