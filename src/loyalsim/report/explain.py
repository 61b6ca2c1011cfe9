"""``loyalsim explain``: a program in plain words, with worked examples computed by its Policy.

Every number in an explanation comes from the compiled Policy (earn examples) or from
replaying a synthetic member through the same replay engine as ``loyalsim earn`` (time
to reach rewards and tiers) — never from a second implementation of the rules.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import numpy as np

from loyalsim.compile.calendar import day_number
from loyalsim.compile.exact import Ratio
from loyalsim.compile.mechanics import Conditions, EarnRule
from loyalsim.compile.policy import Policy
from loyalsim.durations import Duration

SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CAD": "CA$",
    "AUD": "A$",
    "INR": "₹",
    "CHF": "CHF ",
}
DEFAULT_AMOUNTS = (5, 10, 25, 50, 100, 120.99, 250)


class Words:
    """Formatting helpers bound to one policy's currency and points."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.symbol = SYMBOLS.get(policy.currency, policy.currency + " ")

    def money(self, minor: int) -> str:
        value = Decimal(minor).scaleb(-self.policy.minor_units)
        return f"{self.symbol}{value:,.{self.policy.minor_units}f}"

    def points(self, units: int) -> str:
        value = Decimal(units).scaleb(-self.policy.points.decimals)
        name = self.policy.points.name
        return f"{value:,.{self.policy.points.decimals}f} {name}"

    def ratio(self, ratio: Ratio) -> str:
        return str(ratio)

    def percent(self, ratio: Ratio) -> str:
        return f"{(ratio.decimal * 100).normalize():f}%"

    def conditions(self, c: Conditions) -> str:
        parts = []
        vocab = self.policy.vocabulary
        if c.category is not None:
            parts.append("in " + ", ".join(vocab.categories[i] for i in sorted(c.category)))
        if c.exclude_category:
            parts.append("except " + ", ".join(vocab.categories[i] for i in sorted(c.exclude_category)))
        if c.channel is not None:
            parts.append("through " + ", ".join(vocab.channels[i] for i in sorted(c.channel)))
        if c.min_spend is not None:
            parts.append(f"from {self.money(c.min_spend)}")
        if c.tiers is not None:
            parts.append("for " + ", ".join(self.policy.level_name(i) for i in sorted(c.tiers)) + " members")
        return (" (" + "; ".join(parts) + ")") if parts else ""

    def duration(self, d: Duration | None) -> str:
        return "ever" if d is None else str(d)


_ROUNDING = {
    "floor_amount": "only whole {unit}s count, and points are rounded down",
    "floor_points": "points are computed on the exact amount and rounded down",
    "half_up": "points are rounded to the nearest whole point (halves up)",
    "half_even": "points are rounded to the nearest whole point (halves to even)",
    "ceil_points": "points are rounded up",
    "exact": "fractional points are kept",
}


def describe_earn(rule: EarnRule, w: Words) -> str:
    policy = w.policy
    name = policy.points.name
    unit = {"USD": "dollar", "EUR": "euro", "GBP": "pound"}.get(policy.currency, f"{policy.currency} unit")
    if rule.kind == "spend":
        if len(rule.bands) == 1 and rule.bands[0].low == 0 and rule.bands[0].high is None:
            rate = rule.bands[0].rate
            noun = name[:-1] if rate == Ratio(1) and name.endswith("s") else name
            text = f"{w.ratio(rate)} {noun} per {unit} spent"
        else:
            pieces = []
            for band in rule.bands:
                span = (
                    f"between {w.money(band.low)} and {w.money(band.high)}"
                    if band.high is not None
                    else f"above {w.money(band.low)}"
                )
                pieces.append(f"{w.ratio(band.rate)} per {unit} {span}")
            how = (
                "of each purchase"
                if rule.banding == "marginal"
                else "(the whole purchase at its band's rate)"
            )
            text = f"{name} on the part of each purchase in each band: " + "; ".join(pieces) + f" {how}"
        text += f"{w.conditions(rule.conditions)}; " + _ROUNDING[rule.rounding].format(unit=unit)
    elif rule.kind == "visit":
        text = f"{w.points(rule.points)} per purchase{w.conditions(rule.conditions)}"
    elif rule.kind == "item":
        text = f"{w.points(rule.points)} per item bought{w.conditions(rule.conditions)}"
    else:
        text = f"{w.points(rule.points)} for {str(rule.action).replace('_', ' ')}"
        if rule.limit_count:
            text += f", at most {rule.limit_count} per {w.duration(rule.limit_per) if rule.limit_per else 'lifetime'}"
    if rule.cap_transaction is not None:
        text += f"; at most {w.points(rule.cap_transaction)} per purchase"
    if rule.cap_period is not None:
        text += f"; at most {w.points(rule.cap_period.units)} per calendar {rule.cap_period.period}"
    return f"{rule.id}: {text}."


def sections(policy: Policy) -> dict[str, list[str]]:
    """The program in plain words, by section."""
    w = Words(policy)
    out: dict[str, list[str]] = {}
    for section in (
        _earning,
        _tiers,
        _rewards,
        _expiry,
        _membership,
        _cashback,
        _value,
        _community,
        _referral,
        _campaigns,
        _reminders,
    ):
        section(policy, w, out)
    return {k: v for k, v in out.items() if v}


def _earning(policy: Policy, w: Words, out: dict[str, list[str]]) -> None:
    """The section on earning, if the program has it."""
    if policy.earn:
        out["How points are earned"] = [describe_earn(rule, w) for rule in policy.earn]
        if policy.tiers is not None and any(level.multiplier != Ratio(1) for level in policy.tiers.levels):
            out["How points are earned"].append(
                "Spend rules are multiplied by the member's tier (see Tiers)."
            )


def _tiers(policy: Policy, w: Words, out: dict[str, list[str]]) -> None:
    """The section on tiers, if the program has it."""
    t = policy.tiers
    if t is not None:
        metric = {"points_earned": f"{policy.points.name} earned", "spend": "spend", "visits": "purchases"}[
            t.metric
        ]
        window = {
            "calendar_year": "in a calendar year",
            "anniversary": "in a membership year",
            "lifetime": "over the membership",
            "rolling": f"in the last {t.window_months} months",
        }[t.window]
        lines = [
            f"Tiers are earned on {metric} {window}; upgrades are "
            + ("immediate." if t.evaluation == "immediate" else "applied at month end.")
        ]
        for level in t.levels:
            if t.metric == "spend":
                threshold = w.money(level.threshold)
            elif t.metric == "points_earned":
                threshold = w.points(level.threshold)
            else:
                threshold = f"{level.threshold} purchases"
            benefits = []
            if level.multiplier != Ratio(1):
                benefits.append(f"earns ×{w.ratio(level.multiplier)}")
            if level.bonus_points:
                benefits.append(f"{w.points(level.bonus_points)} on reaching it")
            benefits += [
                f"{name}" + (f" (valued at {w.money(cost)} a year)" if cost else "")
                for name, cost in level.perks
            ]
            lines.append(
                f"{level.name}: from {threshold}" + (f" — {', '.join(benefits)}" if benefits else "") + "."
            )
        downgrade = {
            "reset": "members move to the level they requalify for",
            "one_level": "members who do not requalify drop one level",
            "none": "members keep their level",
        }[t.downgrade]
        grace = f" after a grace of {t.grace}" if t.grace.months or t.grace.days else ""
        lines.append(f"At the end of each window {downgrade}{grace}.")
        out["Tiers"] = lines


def _rewards(policy: Policy, w: Words, out: dict[str, list[str]]) -> None:
    """The section on rewards, if the program has it."""
    r = policy.rewards
    if r is not None:
        lines = []
        for reward in r.catalog:
            per_point = (
                Decimal(reward.face_value).scaleb(-policy.minor_units) / (Decimal(reward.cost) / policy.scale)
                if reward.cost
                else Decimal(0)
            )
            lines.append(
                f"{reward.name}: {w.points(reward.cost)} for {w.money(reward.face_value)} "
                f"({reward.kind.replace('_', ' ')}; {w.symbol}{per_point:.4f} per point)"
                + (f", from {policy.level_name(reward.min_tier)}" if reward.min_tier is not None else "")
                + "."
            )
        default = r.default_reward
        if r.policy == "auto" and default is not None:
            lines.append(
                f"Points are redeemed automatically for {default.name} as soon as the balance allows."
            )
        else:
            lines.append("Members choose when to redeem.")
        if r.min_balance:
            lines.append(f"At least {w.points(r.min_balance)} must remain after a redemption.")
        lines.append(
            f"For the liability, one point is valued at {w.symbol}{policy.points.value.decimal.normalize():f}."
        )
        out["Rewards"] = lines


def _expiry(policy: Policy, w: Words, out: dict[str, list[str]]) -> None:
    """The section on expiry, if the program has it."""
    if policy.expiry:
        lines = []
        for e in policy.expiry:
            exempt = (
                " — except for "
                + " and ".join(policy.level_name(i) for i in sorted(e.exempt_tiers))
                + " members"
                if e.exempt_tiers
                else ""
            )
            if e.kind == "rolling":
                lines.append(
                    f"Points expire {e.after} after they are earned"
                    + (", at the end of that month" if e.to_month_end else "")
                    + exempt
                    + "."
                )
            elif e.kind == "fixed_date":
                lines.append(
                    f"Points expire on {e.date}"
                    + (" every year" if e.date and len(e.date) == 5 else "")
                    + exempt
                    + "."
                )
            else:
                lines.append(
                    f"The whole balance expires after {e.after} without a "
                    f"{'purchase' if e.activity == 'purchase' else 'purchase or action'}{exempt}."
                )
        out["Expiry"] = lines
    else:
        out["Expiry"] = ["Points never expire."] if policy.earn else []


def _membership(policy: Policy, w: Words, out: dict[str, list[str]]) -> None:
    """The section on membership, if the program has it."""
    m = policy.membership
    if m is not None:
        lines = [
            f"Plan {p.id}: {w.money(p.fee)} " + (f"every {p.period}" if p.period else "once, for life") + "."
            for p in m.plans
        ]
        if m.trial is not None:
            target = m.plans[m.trial_converts_to].id if m.trial_converts_to is not None else "a paid plan"
            lines.append(f"A free trial of {m.trial}, converting to {target}.")
        lines.append(
            "Membership renews automatically until cancelled."
            if m.renewal == "auto"
            else "Members renew by choice."
        )
        for perk in m.perks:
            detail = {
                "discount": f"{w.percent(perk.rate)} off" if perk.rate else "a discount",
                "earn_multiplier": f"earns ×{perk.multiplier}" if perk.multiplier else "earns more",
                "bonus_points": w.points(perk.points) + " per period",
            }.get(perk.kind, perk.name)
            cost = (
                f" (costs {w.money(perk.value)} per use)"
                if perk.value and perk.kind in ("free_shipping", "free_item")
                else (f" (valued at {w.money(perk.value)} a year)" if perk.value else "")
            )
            lines.append(
                f"Perk: {detail if perk.kind != 'other' else perk.name}{w.conditions(perk.conditions)}{cost}."
            )
        out["Membership"] = lines


def _cashback(policy: Policy, w: Words, out: dict[str, list[str]]) -> None:
    """The section on cashback, if the program has it."""
    c = policy.cashback
    if c is not None:
        lines = [
            f"{w.percent(rate.rate)} back{w.conditions(rate.conditions)}"
            + (f", at most {w.money(rate.cap)} per purchase" if rate.cap else "")
            + "."
            for rate in c.rates
        ]
        lines.append("The first matching rate applies; cashback is rounded down to the cent.")
        lines.append(
            f"Paid {c.schedule.replace('_', ' ')} as {c.form.replace('_', ' ')}"
            + (f" once at least {w.money(c.threshold)} has accrued" if c.threshold else "")
            + "."
        )
        if c.expiry is not None:
            lines.append(f"Unclaimed cashback expires after {c.expiry}.")
        out["Cashback"] = lines


def _value(policy: Policy, w: Words, out: dict[str, list[str]]) -> None:
    """The section on value, if the program has it."""
    v = policy.value
    if v is not None:
        lines = []
        if v.dividend is not None:
            d = v.dividend
            lines.append(
                f"A yearly dividend of {w.percent(d.rate)} of eligible spend{w.conditions(d.eligible)}, "
                f"issued in month {d.paid_in_month} as a {d.form.replace('_', ' ')}"
                + (f", expiring after {d.expiry}" if d.expiry else "")
                + "."
            )
        if v.donations is not None:
            dn = v.donations
            if dn.per_purchase_rate is not None or dn.per_purchase_amount:
                pieces = []
                if dn.per_purchase_amount:
                    pieces.append(w.money(dn.per_purchase_amount))
                if dn.per_purchase_rate is not None:
                    pieces.append(w.percent(dn.per_purchase_rate))
                lines.append(
                    f"The company donates {' plus '.join(pieces)} of each purchase"
                    + (f" to {dn.cause}" if dn.cause else "")
                    + "."
                )
            if dn.points_per_step:
                lines.append(
                    f"Members can donate {w.points(dn.points_per_step)} as {w.money(dn.amount_per_step)}"
                    + (f", matched at {dn.match_rate}" if dn.match_rate else "")
                    + "."
                )
        out["Value"] = lines


def _community(policy: Policy, w: Words, out: dict[str, list[str]]) -> None:
    """The section on community, if the program has it."""
    if policy.community:
        out["Community"] = [
            f"{a.id} ({a.kind.replace('_', ' ')}): {w.points(a.points)}"
            + (f", at most {a.limit_count} per {a.limit_per or 'lifetime'}" if a.limit_count else "")
            + "."
            for a in policy.community
        ]


def _referral(policy: Policy, w: Words, out: dict[str, list[str]]) -> None:
    """The section on referral, if the program has it."""
    ref = policy.referral
    if ref is not None:

        def grant(g: Any) -> str:
            parts = []
            if g.points:
                parts.append(w.points(g.points))
            if g.credit:
                parts.append(f"{w.money(g.credit)} credit")
            if g.discount_rate is not None:
                parts.append(f"{w.percent(g.discount_rate)} off the first purchase")
            return " and ".join(parts) or "nothing"

        event = (
            "signs up"
            if ref.qualifying_event == "sign_up"
            else "makes a first purchase"
            + (f" of at least {w.money(ref.min_first_purchase)}" if ref.min_first_purchase else "")
        )
        lines = [
            f"When a referred friend {event}"
            + (f" within {ref.window}" if ref.window else "")
            + f", the referrer gets {grant(ref.referrer)} and the friend gets {grant(ref.referee)}."
        ]
        if ref.limit_count:
            lines.append(f"At most {ref.limit_count} rewarded referrals per {ref.limit_per or 'lifetime'}.")
        out["Referral"] = lines


def _campaigns(policy: Policy, w: Words, out: dict[str, list[str]]) -> None:
    """The section on campaigns, if the program has it."""
    if policy.campaigns:
        from loyalsim.compile.calendar import to_date

        lines = []
        for camp in policy.campaigns:
            what = (
                f"×{camp.multiplier} on {', '.join(sorted(camp.rules)) if camp.rules else 'spend rules'}"
                if camp.kind == "multiplier"
                else f"{w.points(camp.points)} bonus per purchase"
                + (" (once per member)" if camp.once_per_member else "")
            )
            lines.append(
                f"{camp.name}: {what}{w.conditions(camp.conditions)}, "
                f"{to_date(camp.start)} to {to_date(camp.end)}."
            )
        out["Campaigns"] = lines


def _reminders(policy: Policy, w: Words, out: dict[str, list[str]]) -> None:
    """The section on reminders, if the program has it."""
    if policy.reminders:
        lines = []
        for rem in policy.reminders:
            channel = rem.channel.replace("_", "-")
            article = "An" if channel[0] in "aeiou" else "A"
            if rem.kind == "points_expiring":
                lines.append(f"{article} {channel} reminder {rem.before} before points expire.")
            elif rem.kind == "tier_progress":
                lines.append(
                    f"{article} {channel} nudge when a member is within {rem.within} of the next tier."
                )
            else:
                target = (
                    policy.rewards.catalog[rem.reward].name
                    if rem.reward is not None and policy.rewards
                    else "a reward"
                )
                lines.append(f"{article} {channel} message when {target} becomes available.")
        out["Reminders"] = lines


def earn_examples(policy: Policy, amounts: tuple[float, ...] = DEFAULT_AMOUNTS) -> list[dict[str, Any]]:
    """Points for purchases of typical amounts at each tier, computed by the policy."""
    if not any(rule.kind in ("spend", "visit") for rule in policy.earn):
        return []
    minor = np.array([int(Decimal(str(a)) * policy.money_unit) for a in amounts], dtype=np.int64)
    levels = range(len(policy.tiers.levels)) if policy.tiers else [0]
    w = Words(policy)
    rows = []
    day = np.zeros(minor.size, dtype=np.int64)
    for level in levels:
        tier = np.full(minor.size, level, dtype=np.int64)
        # Campaigns are excluded: day 0 (1970) lies outside every campaign.
        points = policy.earn_points(minor, tier, day).rules.sum(axis=0)
        for amount, units in zip(minor.tolist(), points.tolist(), strict=True):
            rows.append(
                {
                    "amount": w.money(amount),
                    "tier": policy.tier_name(level) if policy.tiers else None,
                    "points": units / policy.scale if policy.points.decimals else units // policy.scale,
                }
            )
    return rows


def time_to_reach(
    policy: Policy, monthly_spend: float, visits: int, months: int = 36
) -> list[dict[str, Any]]:
    """Months a member spending ``monthly_spend`` in ``visits`` purchases a month needs to reach each
    reward (balance) and tier — replayed through the same engine as ``loyalsim earn``."""
    if not policy.earn or (policy.rewards is None and policy.tiers is None):
        return []
    from loyalsim.compile.calendar import add_duration
    from loyalsim.replay.engine import MonthRows, ReplayEngine
    from loyalsim.transactions.reader import Transactions

    per_visit = round(Decimal(str(monthly_spend)) * policy.money_unit / visits)
    start = day_number("2001-01-01")  # a date no campaign in a real program touches
    month_starts = np.array(
        [int(add_duration(np.array([start]), Duration(months=m))[0]) for m in range(months)]
    )
    days = np.sort(np.concatenate([month_starts + (28 * k) // visits for k in range(visits)]))
    n = days.size
    tx = Transactions(
        customer=np.zeros(n, dtype=np.int64),
        customer_ids=np.array(["member"], dtype=object),
        day=days,
        second=np.zeros(n, dtype=np.int64),
        amount=np.full(n, per_visit, dtype=np.int64),
        is_return=np.zeros(n, dtype=bool),
        transaction_id=None,
        category=None,
        channel=None,
        quantity=np.ones(n, dtype=np.int64),
        row=np.arange(n, dtype=np.int64) + 2,
        file="<example>",
        rejected=[],
    )  # one synthetic member; no ids, categories or channels
    collected: list[MonthRows] = []
    engine = ReplayEngine(policy, tx.customer_ids, redeem="none", sink=collected.append)
    engine.run(tx)
    engine.finish()
    results = []
    for reward in policy.rewards.catalog if policy.rewards else ():
        month = next((i + 1 for i, rows in enumerate(collected) if rows.balance[0] >= reward.cost), None)
        results.append({"goal": f"reward {reward.id}", "months": month})
    if policy.tiers is not None:
        for index, level in enumerate(policy.tiers.levels[1:], start=1):
            month = next((i + 1 for i, rows in enumerate(collected) if rows.tier[0] >= index), None)
            results.append({"goal": f"tier {level.id}", "months": month})
    return results


def explain(policy: Policy, monthly_spend: float = 100.0, visits: int = 4) -> dict[str, Any]:
    w = Words(policy)
    return {
        "program": {
            "name": policy.name,
            "title": policy.title,
            "type": policy.type,
            "currency": policy.currency,
            "content_hash": policy.content_hash,
        },
        "sections": sections(policy),
        "examples": earn_examples(policy),
        "assumed_member": {
            "monthly_spend": w.money(int(Decimal(str(monthly_spend)) * policy.money_unit)),
            "purchases_per_month": visits,
        },
        "time_to_reach": time_to_reach(policy, monthly_spend, visits),
    }


def render_text(data: dict[str, Any]) -> str:
    program = data["program"]
    lines = [f"{program['title']} ({program['type']} program, {program['currency']})", ""]
    for title, items in data["sections"].items():
        lines.append(title)
        lines += [f"  - {item}" for item in items]
        lines.append("")
    examples = data["examples"]
    if examples:
        tiers = list(dict.fromkeys(row["tier"] for row in examples))
        amounts = list(dict.fromkeys(row["amount"] for row in examples))
        table = {(row["amount"], row["tier"]): row["points"] for row in examples}
        header = ["purchase"] + [t or "points" for t in tiers]
        widths = [max(len(header[0]), *(len(a) for a in amounts))] + [max(len(str(h)), 8) for h in header[1:]]
        lines.append("Worked examples (points per purchase" + (", by tier)" if tiers != [None] else ")"))
        lines.append("  " + "  ".join(str(h).rjust(wd) for h, wd in zip(header, widths, strict=True)))
        for amount in amounts:
            cells = [amount] + [str(table[(amount, t)]) for t in tiers]
            lines.append("  " + "  ".join(c.rjust(wd) for c, wd in zip(cells, widths, strict=True)))
        lines.append("")
    reach = data["time_to_reach"]
    if reach:
        member = data["assumed_member"]
        lines.append(
            f"A member spending {member['monthly_spend']} a month in {member['purchases_per_month']} purchases"
        )
        for item in reach:
            when = f"month {item['months']}" if item["months"] else "not within 36 months"
            lines.append(f"  - reaches {item['goal']}: {when}")
        lines.append("")
    return "\n".join(lines)


def render_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
