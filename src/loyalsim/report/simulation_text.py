"""The text summary `loyalsim simulate` prints: what the program is about first, then the money.

Where: the report stage, for :mod:`loyalsim.cli.app`'s ``simulate``. Every program gets its
cost, incremental gross margin, ROI and NPV with their P5-P95 range; then the lines of the
mechanics it has — points and their liability (months 12/24/36 and the peak), cashback,
dividends, paid membership, referrals — and none of those it lacks, so a cashback program
never shows a column of zero points.
"""

from __future__ import annotations

from typing import Any

from loyalsim.compile.policy import Policy


def _band(block: dict[str, float], fmt: str = ",.2f") -> str:
    return f"{block['mean']:{fmt}} (P5 {block['p5']:{fmt}}, P95 {block['p95']:{fmt}})"


def render(
    policy: Policy,
    scenario_name: str,
    replications: int,
    days: int,
    seed: int,
    headline: dict[str, Any],
    out: object,
) -> str:
    """The summary of one simulation's ``headline`` (summary.json's content) as plain text."""
    p, c = headline["program_arm"], headline["control_arm"]
    economics, finance = headline["economics"], headline["finance"]
    currency = policy.currency
    lines = [
        f"{policy.title} ({policy.type} program, {currency}) on {scenario_name}: "
        f"{replications} replication(s), {days} days, seed {seed}",
        "",
    ]
    lines.append(f"Over the horizon, against the no-program control on the same customers ({currency}):")
    for key, label, fmt in (
        ("program_cost", "program cost", ",.2f"),
        ("incremental_gross_margin", "incremental gross margin", ",.2f"),
        ("net_benefit", "net benefit", ",.2f"),
        ("npv", "NPV of the net benefit", ",.2f"),
        ("roi", "ROI", "+.1%"),
    ):
        if key in economics:
            lines.append(f"  {label:26}{_band(economics[key], fmt)}")
    if "roi" not in economics:
        lines.append(f"  {'ROI':26}none: the program costs nothing")
    lines.append(f"  {'incremental revenue':26}{_band(headline['incremental_revenue'])}")
    lines += [
        "",
        f"{'':28}{'program':>16}{'control':>16}",
        f"{'customers at end':28}{p['customers_at_end']['mean']:>16,.0f}{c['customers_at_end']['mean']:>16,.0f}",
        f"{'purchases':28}{p['purchases']['mean']:>16,.0f}{c['purchases']['mean']:>16,.0f}",
        f"{'revenue':28}{p['revenue']['mean']:>16,.2f}{c['revenue']['mean']:>16,.2f}",
        f"{'members at end':28}{p['members_at_end']['mean']:>16,.0f}",
    ]
    end = finance.get("end", {})
    if policy.membership is not None and any(plan.fee > 0 for plan in policy.membership.plans):
        lines.append(f"{'subscribers at end':28}{end['subscribers']['mean']:>16,.0f}")
        lines.append(f"{'fees billed':28}{economics['fees_billed']['mean']:>16,.2f}")
        lines.append(f"{'fee revenue recognised':28}{economics['fee_revenue']['mean']:>16,.2f}")
        lines.append(f"{'deferred fees at end':28}{end['deferred_fee_revenue']['mean']:>16,.2f}")
    opening = headline.get("opening") or {}
    for key, label in (("cashback_payable", "cashback payable"), ("dividend_payable", "dividend payable")):
        if key in opening:  # a running book's money owed at the end of its history
            lines.append(f"{label + ', ' + opening['month']:28}{opening[key]:>16,.2f}")
    if policy.cashback is not None:
        lines.append(f"{'cashback accrued':28}{economics['cashback_accrued']['mean']:>16,.2f}")
        lines.append(f"{'cashback payable at end':28}{end['cashback_payable']['mean']:>16,.2f}")
    if policy.value is not None and policy.value.dividend is not None:
        lines.append(f"{'dividend accrued':28}{economics['dividend_accrued']['mean']:>16,.2f}")
        lines.append(f"{'dividend payable at end':28}{end['dividend_payable']['mean']:>16,.2f}")
    if policy.referral is not None:
        lines.append(f"{'referrals':28}{p['referrals']['mean']:>16,.0f}")
        lines.append(f"{'referral cost':28}{economics['referral_cost']['mean']:>16,.2f}")
    if p["points_issued"]["mean"] > 0 or policy.rewards is not None:
        name = policy.points.name
        opening = headline.get("opening")
        if opening is not None:  # a running program's book, replayed to the end of its history
            lines.append(
                f"{name + ' outstanding, ' + opening['month']:28}{opening['points_outstanding']:>16,.0f}"
            )
        lines.append(f"{name + ' issued':28}{p['points_issued']['mean']:>16,.0f}")
        lines.append(f"{name + ' outstanding at end':28}{p['points_outstanding_at_end']['mean']:>16,.0f}")
        lines.append("")
        for key in ("month_12", "month_24", "month_36"):
            if key in finance:
                block = finance[key]
                lines.append(
                    f"liability at cost, {block['month']}: {_band(block['liability_at_cost'])}; "
                    f"deferred revenue {block['contract_liability']['mean']:,.2f}; "
                    f"breakage {block['breakage']['mean']:.1%}"
                )
        peak = finance.get("peak")
        if peak and peak["liability_at_cost"]["mean"] > 0:
            lines.append(
                f"peak liability at cost, {peak['month']} (month {peak['month_number']}): "
                f"{_band(peak['liability_at_cost'])}"
            )
            rolling = [r.after for r in policy.expiry if r.kind == "rolling" and r.after is not None]
            if rolling and peak["month_number"] <= min(d.approx_days for d in rolling) / 30.44 + 1:
                lines.append(
                    f"  (the first {name} expire {min(rolling, key=lambda d: d.approx_days)} after "
                    "they are earned: the liability builds until then and falls as expiry starts)"
                )
    drawn = headline.get("drawn_responses", [])
    if drawn:
        lines += ["", "Assumptions drawn once per replication (docs/behaviour.md):"]
        for item in drawn:
            stated = ", ".join(
                f"{k} {v:g}" for k, v in item.items() if k not in ("path", "distribution", "drawn")
            )
            band = item["drawn"]
            lines.append(
                f"  {item['path']}: {item['distribution']} ({stated}); drawn P5 {band['p5']:.4g}, "
                f"mean {band['mean']:.4g}, P95 {band['p95']:.4g}"
            )
    lines += [
        "",
        f"results written to {out}/ (monthly.csv/.parquet, cohorts.csv/.parquet, summary.json, report.html)",
    ]
    return "\n".join(lines) + "\n"
