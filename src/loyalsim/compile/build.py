"""Compilation of a validated program document into a :class:`Policy`.

Where: the compile stage. Sections are compiled by functions registered by name in
``SECTIONS`` (no lookups by import path); each gets the section's data and a
:class:`CompileContext` that converts amounts exactly and records located issues.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loyalsim.compile.calendar import day_number
from loyalsim.compile.exact import Ratio, money_minor
from loyalsim.compile.mechanics import (
    Action,
    Band,
    Campaign,
    Cashback,
    CashbackRate,
    Conditions,
    Dividend,
    Donations,
    EarnRule,
    ExpiryRule,
    Grant,
    Level,
    Membership,
    PeriodCap,
    Perk,
    Plan,
    PointsSpec,
    Referral,
    Reminder,
    Reward,
    Rewards,
    Tiers,
    Value,
    Vocabulary,
)
from loyalsim.compile.policy import Policy
from loyalsim.durations import DAYS_PER_MONTH, Duration, parse_duration
from loyalsim.issues import Issue, JsonPath, Severity
from loyalsim.load import LoadedDocument
from loyalsim.money import minor_units

# Largest denominator a rate may have: keeps amount × rate × multipliers inside int64 for
# transactions up to 10^12 minor units (see LS240).
MAX_RATE_DENOMINATOR = 10**6


@dataclass
class CompileContext:
    doc: LoadedDocument
    minor_units: int
    scale: int
    issues: list[Issue] = field(default_factory=list)
    categories: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    tier_index: dict[str, int] = field(default_factory=dict)
    reward_index: dict[str, int] = field(default_factory=dict)
    plan_index: dict[str, int] = field(default_factory=dict)

    def issue(self, code: str, path: JsonPath, message: str, hint: str | None = None) -> None:
        line, column = self.doc.source.locate(path)
        self.issues.append(Issue(code, Severity.ERROR, message, self.doc.file, line, column, path, hint))

    def money(self, value: Any) -> int:
        return money_minor(value, self.minor_units)

    def ratio(self, value: Any, path: JsonPath) -> Ratio:
        ratio = Ratio.of(value)
        if ratio.den > MAX_RATE_DENOMINATOR:
            self.issue(
                "LS240",
                path,
                f"{value} has more than 6 decimal places",
                "round it to at most 6 decimals; loyalsim computes points exactly and bounds precision",
            )
        return ratio

    def points(self, value: Any) -> int:
        return int(value) * self.scale

    def code(self, table: dict[str, int], name: str) -> int:
        return table.setdefault(name, len(table))

    def conditions(self, data: dict[str, Any] | None) -> Conditions:
        if not data:
            return Conditions()
        return Conditions(
            category=frozenset(self.code(self.categories, c) for c in data["category"])
            if "category" in data
            else None,
            exclude_category=frozenset(
                self.code(self.categories, c) for c in data.get("exclude_category", [])
            ),
            channel=frozenset(self.code(self.channels, c) for c in data["channel"])
            if "channel" in data
            else None,
            min_spend=self.money(data["min_spend"]) if "min_spend" in data else None,
            tiers=frozenset(self.tier_index[t] for t in data["tiers"]) if "tiers" in data else None,
        )


SectionCompiler = Callable[[Any, CompileContext], Any]
SECTIONS: dict[str, SectionCompiler] = {}


def section(name: str) -> Callable[[SectionCompiler], SectionCompiler]:
    """Register the compiler of a top-level program section."""

    def register(fn: SectionCompiler) -> SectionCompiler:
        SECTIONS[name] = fn
        return fn

    return register


def _limit(data: dict[str, Any] | None) -> tuple[int | None, Duration | None]:
    if not data:
        return None, None
    per = None if data["per"] == "lifetime" else parse_duration(data["per"])
    return int(data["count"]), per


@section("earn")
def compile_earn(data: list[dict[str, Any]], ctx: CompileContext) -> tuple[EarnRule, ...]:
    default_rounding = ctx.doc.data.get("points", {}).get("rounding", "floor_points")
    rules = []
    for i, item in enumerate(data):
        cap = item.get("cap", {})
        period = cap.get("per_period")
        common: dict[str, Any] = {
            "id": item["id"],
            "kind": item["kind"],
            "conditions": ctx.conditions(item.get("when")),
            "cap_transaction": ctx.points(cap["per_transaction"]) if "per_transaction" in cap else None,
            "cap_period": PeriodCap(ctx.points(period["points"]), period["period"]) if period else None,
            "description": item.get("description"),
        }
        if item["kind"] == "spend":
            if "bands" in item:
                bands = tuple(
                    Band(
                        ctx.money(b["from"]),
                        ctx.money(b["to"]) if "to" in b else None,
                        ctx.ratio(b["rate"], ("earn", i, "bands", j, "rate")),
                    )
                    for j, b in enumerate(sorted(item["bands"], key=lambda b: b["from"]))
                )
            else:
                bands = (Band(0, None, ctx.ratio(item["rate"], ("earn", i, "rate"))),)
            rules.append(
                EarnRule(
                    **common,
                    bands=bands,
                    banding=item.get("banding", "marginal"),
                    rounding=item.get("rounding", default_rounding),
                )
            )
        else:
            count, per = _limit(item.get("limit"))
            rules.append(
                EarnRule(
                    **common,
                    points=ctx.points(item["points"]),
                    action=item.get("action"),
                    limit_count=count,
                    limit_per=per,
                )
            )
    return tuple(rules)


@section("tiers")
def compile_tiers(data: dict[str, Any], ctx: CompileContext) -> Tiers:
    metric = data["metric"]
    levels = []
    for i, level in enumerate(data["levels"]):
        threshold = level["threshold"]
        if metric == "spend":
            converted = ctx.money(threshold)
        elif metric == "points_earned":
            converted = round(threshold * ctx.scale)
        else:
            converted = int(threshold)
        benefits = level.get("benefits", {})
        levels.append(
            Level(
                id=level["id"],
                name=level.get("name", level["id"]),
                threshold=converted,
                multiplier=ctx.ratio(
                    benefits.get("earn_multiplier", 1), ("tiers", "levels", i, "benefits", "earn_multiplier")
                ),
                bonus_points=ctx.points(benefits.get("bonus_points", 0)),
                perks=tuple(
                    (p["name"], ctx.money(p["value"]) if "value" in p else None)
                    for p in benefits.get("perks", [])
                ),
            )
        )
    window = data["window"]
    months = 0
    if window["kind"] == "rolling":
        length = parse_duration(window["length"])
        months = length.months + round(length.days / DAYS_PER_MONTH)
        if length.days:
            # Tier windows are counted in calendar months; say so when days were given.
            ctx.issues.append(
                Issue(
                    "LS241",
                    Severity.INFO,
                    f"a rolling window of {length} is counted as {months} calendar months",
                    ctx.doc.file,
                    *ctx.doc.source.locate(("tiers", "window", "length")),
                    ("tiers", "window", "length"),
                )
            )
        months = max(months, 1)
    downgrade = data.get("downgrade", {})
    return Tiers(
        metric=metric,
        window=window["kind"],
        window_months=months,
        evaluation=data.get("evaluation", "immediate"),
        levels=tuple(levels),
        downgrade=downgrade.get("policy", "reset"),
        grace=parse_duration(downgrade["grace"]) if "grace" in downgrade else Duration(),
    )


@section("rewards")
def compile_rewards(data: dict[str, Any], ctx: CompileContext) -> Rewards:
    catalog = tuple(
        Reward(
            id=r["id"],
            name=r.get("name", r["id"]),
            kind=r["kind"],
            cost=ctx.points(r["cost"]),
            face_value=ctx.money(r["face_value"]),
            min_tier=ctx.tier_index[r["min_tier"]] if "min_tier" in r else None,
        )
        for r in data["catalog"]
    )
    redemption = data.get("redemption", {})
    default = redemption.get("default")
    return Rewards(
        catalog=catalog,
        policy=redemption.get("policy", "choice"),
        default=ctx.reward_index[default] if default is not None else None,
        min_balance=ctx.points(redemption.get("min_balance", 0)),
    )


@section("expiry")
def compile_expiry(data: list[dict[str, Any]], ctx: CompileContext) -> tuple[ExpiryRule, ...]:
    return tuple(
        ExpiryRule(
            kind=e["kind"],
            after=parse_duration(e["after"]) if "after" in e else None,
            to_month_end=bool(e.get("to_month_end", False)),
            date=e.get("date"),
            activity=e.get("activity", "purchase"),
            exempt_tiers=frozenset(ctx.tier_index[t] for t in e.get("exempt_tiers", [])),
        )
        for e in data
    )


@section("membership")
def compile_membership(data: dict[str, Any], ctx: CompileContext) -> Membership:
    plans = tuple(
        Plan(p["id"], ctx.money(p["fee"]), None if p["period"] == "one_time" else parse_duration(p["period"]))
        for p in data["plans"]
    )
    trial = data.get("trial")
    perks = tuple(
        Perk(
            kind=p["kind"],
            name=p.get("name", p["kind"]),
            rate=ctx.ratio(p["rate"], ("membership", "perks", i, "rate")) if "rate" in p else None,
            multiplier=ctx.ratio(p["multiplier"], ("membership", "perks", i, "multiplier"))
            if "multiplier" in p
            else None,
            points=ctx.points(p.get("points", 0)),
            value=ctx.money(p["value"]) if "value" in p else None,
            conditions=ctx.conditions(p.get("when")),
        )
        for i, p in enumerate(data.get("perks", []))
    )
    return Membership(
        plans=plans,
        trial=parse_duration(trial["length"]) if trial else None,
        trial_converts_to=ctx.plan_index[trial["converts_to"]] if trial and "converts_to" in trial else None,
        renewal=data.get("renewal", "auto"),
        perks=perks,
    )


@section("cashback")
def compile_cashback(data: dict[str, Any], ctx: CompileContext) -> Cashback:
    payout = data.get("payout", {})
    return Cashback(
        rates=tuple(
            CashbackRate(
                ctx.ratio(r["rate"], ("cashback", "rates", i, "rate")),
                ctx.conditions(r.get("when")),
                ctx.money(r["cap"]) if "cap" in r else None,
            )
            for i, r in enumerate(data["rates"])
        ),
        threshold=ctx.money(payout.get("threshold", 0)),
        form=payout.get("form", "store_credit"),
        schedule=payout.get("schedule", "monthly"),
        expiry=parse_duration(data["expiry"]["after"]) if "expiry" in data else None,
    )


@section("value")
def compile_value(data: dict[str, Any], ctx: CompileContext) -> Value:
    dividend = None
    if "dividend" in data:
        d = data["dividend"]
        dividend = Dividend(
            rate=ctx.ratio(d["rate"], ("value", "dividend", "rate")),
            eligible=ctx.conditions(d.get("eligible")),
            paid_in_month=d.get("paid_in_month", 3),
            form=d.get("form", "voucher"),
            expiry=parse_duration(d["expiry"]["after"]) if "expiry" in d else None,
        )
    donations = None
    if "donations" in data:
        d = data["donations"]
        per = d.get("per_purchase", {})
        convert = d.get("points_to_donation", {})
        donations = Donations(
            per_purchase_amount=ctx.money(per.get("amount", 0)),
            per_purchase_rate=ctx.ratio(per["rate"], ("value", "donations", "per_purchase", "rate"))
            if "rate" in per
            else None,
            points_per_step=ctx.points(convert.get("points", 0)),
            amount_per_step=ctx.money(convert.get("amount", 0)),
            match_rate=ctx.ratio(
                convert["match_rate"], ("value", "donations", "points_to_donation", "match_rate")
            )
            if "match_rate" in convert
            else None,
            cause=d.get("cause"),
        )
    return Value(dividend=dividend, donations=donations)


@section("community")
def compile_community(data: dict[str, Any], ctx: CompileContext) -> tuple[Action, ...]:
    actions = []
    for a in data["actions"]:
        count, per = _limit(a.get("limit"))
        actions.append(Action(a["id"], a["kind"], ctx.points(a["points"]), count, per))
    return tuple(actions)


def _grant(data: dict[str, Any] | None, ctx: CompileContext, path: JsonPath) -> Grant:
    if not data:
        return Grant()
    return Grant(
        points=ctx.points(data.get("points", 0)),
        credit=ctx.money(data.get("credit", 0)),
        discount_rate=ctx.ratio(data["discount_rate"], (*path, "discount_rate"))
        if "discount_rate" in data
        else None,
    )


@section("referral")
def compile_referral(data: dict[str, Any], ctx: CompileContext) -> Referral:
    count, per = _limit(data.get("limit"))
    return Referral(
        qualifying_event=data["qualifying_event"],
        min_first_purchase=ctx.money(data.get("min_first_purchase", 0)),
        window=parse_duration(data["window"]) if "window" in data else None,
        referrer=_grant(data.get("referrer"), ctx, ("referral", "referrer")),
        referee=_grant(data.get("referee"), ctx, ("referral", "referee")),
        limit_count=count,
        limit_per=per,
    )


@section("campaigns")
def compile_campaigns(data: list[dict[str, Any]], ctx: CompileContext) -> tuple[Campaign, ...]:
    return tuple(
        Campaign(
            id=c["id"],
            name=c.get("name", c["id"]),
            start=day_number(c["start"]),
            end=day_number(c["end"]),
            kind=c["kind"],
            multiplier=ctx.ratio(c.get("multiplier", 1), ("campaigns", i, "multiplier")),
            points=ctx.points(c.get("points", 0)),
            rules=frozenset(c["rules"]) if "rules" in c else None,
            conditions=ctx.conditions(c.get("when")),
            once_per_member=bool(c.get("once_per_member", False)),
        )
        for i, c in enumerate(data)
    )


@section("reminders")
def compile_reminders(data: list[dict[str, Any]], ctx: CompileContext) -> tuple[Reminder, ...]:
    return tuple(
        Reminder(
            kind=r["kind"],
            before=parse_duration(r["before"]) if "before" in r else None,
            within=r.get("within"),
            reward=ctx.reward_index[r["reward"]] if "reward" in r else None,
            channel=r.get("channel", "email"),
            cost=ctx.money(r.get("cost", 0)),
        )
        for r in data
    )


def content_hash(data: Any) -> str:
    """SHA-256 of the document's canonical JSON: stamps outputs so forecasts can be reproduced."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# Earning is computed exactly in 64-bit integers: a purchase's amount times its band rate, times
# every multiplier that may stack on its rule (each one's numerator when it applies, its
# denominator when not), times the points scale; cashback and dividends multiply the amount
# by their rate's numerator. From these follows the largest amount a program computes
# exactly (Policy.max_exact_amount); transactions above it are rejected by row, and a
# program that cannot compute even MIN_EXACT_AMOUNT exactly is refused (LS242).
_INT64 = 2**63
MIN_EXACT_AMOUNT = 10**8  # minor units: a program must compute a purchase of this size exactly ($1,000,000)
EXACT_QUANTITY = 10**9  # items or visits on one row (the reader's bound on a quantity)
READ_AMOUNT = (
    10**15
)  # the largest amount the reader accepts (transactions.values.MAX_MINOR; a test ties them)


def _exact_limit(compiled: dict[str, Any], ctx: CompileContext) -> int:
    """The largest purchase (minor units) the compiled mechanics compute exactly; LS242 issues
    for rules that cannot reach ``MIN_EXACT_AMOUNT`` (or whose visit/item points overflow)."""
    rules = compiled.get("earn", ())
    tiers, membership, campaigns = (
        compiled.get("tiers"),
        compiled.get("membership"),
        compiled.get("campaigns", ()),
    )
    limit = READ_AMOUNT
    for r, rule in enumerate(rules):
        stack, dens, named = 1, 1, []
        if rule.kind == "spend" and tiers is not None:
            table, den = tiers.multiplier_table()
            stack, dens = max(int(table.max()), den), den
        if rule.kind == "spend" and membership is not None:
            for perk in membership.perks:
                if perk.kind == "earn_multiplier" and perk.multiplier is not None:
                    stack *= max(perk.multiplier.num, perk.multiplier.den)
                    dens *= perk.multiplier.den
        for campaign in campaigns:
            if campaign.kind == "multiplier" and campaign.targets(rule):
                stack *= max(campaign.multiplier.num, campaign.multiplier.den)
                dens *= campaign.multiplier.den
                named.append(campaign.id)
        if rule.kind == "spend":
            common = math.lcm(*(band.rate.den for band in rule.bands)) if rule.bands else 1
            rate = max((band.rate.num * (common // band.rate.den) for band in rule.bands), default=1)
            dens *= common * 10**ctx.minor_units
            exact = (_INT64 - 1) // max(rate * stack * ctx.scale, 1)
            fits = exact >= MIN_EXACT_AMOUNT
            limit = min(limit, exact)
        else:
            fits = max(rule.points, 1) * EXACT_QUANTITY * stack < _INT64
        if not fits or dens >= _INT64:  # the product, or the rule's denominator
            what = f"{len(named)} multiplier campaigns" if named else "its tier and perk multipliers"
            ctx.issue(
                "LS242",
                ("earn", r),
                f"earn rule '{rule.id}': its rate and {what} stack to a factor of about "
                f"{max(stack, dens):.3g}, too large to compute points exactly",
                "use fewer overlapping multiplier campaigns on this rule (list the rule ids a campaign "
                "applies to with `rules`), or rates and multipliers with fewer decimals",
            )
    cashback = compiled.get("cashback")
    value = compiled.get("value")
    rates = [c.rate for c in cashback.rates] if cashback is not None else []
    if value is not None and value.dividend is not None:
        rates.append(value.dividend.rate)
    for rate in rates:
        limit = min(limit, (_INT64 - 1) // max(rate.num, 1))
    return max(limit, 0)


def build_policy(doc: LoadedDocument) -> tuple[Policy | None, list[Issue]]:
    """Compile a schema- and rule-valid program document. Returns the policy and any issues."""
    data = doc.data
    points_data = data.get("points", {"name": "points"})
    points = PointsSpec(
        name=points_data["name"],
        value=Ratio.of(points_data.get("value", 0)),
        decimals=int(points_data.get("decimals", 0)),
        rounding=points_data.get("rounding", "floor_points"),
    )
    ctx = CompileContext(doc, minor_units(data["metadata"]["currency"]), points.scale)
    ctx.tier_index = {level["id"]: i for i, level in enumerate(data.get("tiers", {}).get("levels", []))}
    ctx.reward_index = {r["id"]: i for i, r in enumerate(data.get("rewards", {}).get("catalog", []))}
    ctx.plan_index = {p["id"]: i for i, p in enumerate(data.get("membership", {}).get("plans", []))}
    compiled = {name: SECTIONS[name](data[name], ctx) for name in SECTIONS if name in data}
    errors = [i for i in ctx.issues if i.severity is Severity.ERROR]
    if errors:
        return None, ctx.issues
    max_exact_amount = _exact_limit(compiled, ctx)
    if any(i.severity is Severity.ERROR for i in ctx.issues):
        return None, ctx.issues
    policy = Policy(
        name=data["metadata"]["name"],
        title=data["metadata"].get("title", data["metadata"]["name"]),
        currency=data["metadata"]["currency"],
        minor_units=ctx.minor_units,
        type=data["type"],
        points=points,
        vocabulary=Vocabulary(tuple(ctx.categories), tuple(ctx.channels)),
        content_hash=content_hash(data),
        source_file=doc.file,
        max_exact_amount=max_exact_amount,
        **compiled,
    )
    return policy, ctx.issues
