"""Semantic rules for programs (LS2xx): design mistakes a schema cannot express.

Each rule documents the mistake it catches in its docstring; ``loyalsim rules`` lists them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from loyalsim.currencies import MINOR_UNITS, NO_MINOR_UNIT, is_currency
from loyalsim.durations import Duration, parse_duration
from loyalsim.money import decimals_of, minor_units
from loyalsim.validate.rules import Context, Finding, rule
from loyalsim.validate.schema_check import did_you_mean

P = "Program"


def _tier_ids(data: dict[str, Any]) -> list[str]:
    return [level["id"] for level in data.get("tiers", {}).get("levels", [])]


def _reward_ids(data: dict[str, Any]) -> list[str]:
    return [reward["id"] for reward in data.get("rewards", {}).get("catalog", [])]


def _unknown(value: str, known: list[str], what: str) -> tuple[str, str | None]:
    guess = did_you_mean(value, known)
    message = f"unknown {what} '{value}'" + (f"; did you mean '{guess}'?" if guess else "")
    hint = None if guess else (f"defined {what}s: {', '.join(known)}" if known else f"no {what}s are defined")
    return message, hint


def _conditions(data: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every `when`/`eligible` conditions object in the program, with its path."""
    for i, earn in enumerate(data.get("earn", [])):
        if "when" in earn:
            yield ("earn", i, "when"), earn["when"]
    for i, rate in enumerate(data.get("cashback", {}).get("rates", [])):
        if "when" in rate:
            yield ("cashback", "rates", i, "when"), rate["when"]
    for i, campaign in enumerate(data.get("campaigns", [])):
        if "when" in campaign:
            yield ("campaigns", i, "when"), campaign["when"]
    for i, perk in enumerate(data.get("membership", {}).get("perks", [])):
        if "when" in perk:
            yield ("membership", "perks", i, "when"), perk["when"]
    dividend = data.get("value", {}).get("dividend", {})
    if "eligible" in dividend:
        yield ("value", "dividend", "eligible"), dividend["eligible"]


@rule(P, "LS201")
def tier_thresholds_increase(ctx: Context) -> Iterator[Finding]:
    """Tier thresholds must be strictly increasing, lowest level first."""
    levels = ctx.data.get("tiers", {}).get("levels", [])
    for i in range(1, len(levels)):
        before, here = levels[i - 1]["threshold"], levels[i]["threshold"]
        if here <= before:
            yield Finding(
                ("tiers", "levels", i, "threshold"),
                f"tier '{levels[i]['id']}' has threshold {here}, not above '{levels[i - 1]['id']}' ({before})",
                "list levels from lowest to highest with strictly increasing thresholds",
            )


@rule(P, "LS202")
def first_tier_zero(ctx: Context) -> Iterator[Finding]:
    """With a first threshold above 0, new members belong to no tier at all."""
    levels = ctx.data.get("tiers", {}).get("levels", [])
    if levels and levels[0]["threshold"] > 0:
        yield Finding(
            ("tiers", "levels", 0, "threshold"),
            f"the lowest tier '{levels[0]['id']}' needs {levels[0]['threshold']}, so new members have no tier",
            "add a base level with threshold 0",
        )


def _bands(data: dict[str, Any]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    for i, earn in enumerate(data.get("earn", [])):
        if earn["kind"] == "spend" and "bands" in earn:
            yield i, earn["bands"]


@rule(P, "LS229")
def empty_band(ctx: Context) -> Iterator[Finding]:
    """A band's upper bound must be above its lower bound."""
    for i, bands in _bands(ctx.data):
        for j, band in enumerate(bands):
            if "to" in band and band["to"] <= band["from"]:
                yield Finding(
                    ("earn", i, "bands", j, "to"),
                    f"band {j + 1} runs from {band['from']} to {band['to']}: it is empty",
                    "'to' must be above 'from'",
                )


def _adjacent_bands(data: dict[str, Any]) -> Iterator[tuple[int, list[dict[str, Any]], int, int]]:
    """(rule index, bands, a, b) for each pair of bands adjacent in order of 'from'."""
    for i, bands in _bands(data):
        order = sorted(range(len(bands)), key=lambda j: bands[j]["from"])
        for a, b in pairwise(order):
            yield i, bands, a, b


@rule(P, "LS203")
def bands_overlap(ctx: Context) -> Iterator[Finding]:
    """Bands of one rule must not overlap: an amount would earn twice."""
    for i, bands, a, b in _adjacent_bands(ctx.data):
        end = bands[a].get("to", math.inf)
        if end > bands[b]["from"]:
            shown = "no upper bound" if end == math.inf else f"up to {end}"
            yield Finding(
                ("earn", i, "bands", b, "from"),
                f"band {b + 1} starts at {bands[b]['from']} but band {a + 1} runs {shown}: they overlap",
                "make each band's 'from' equal the previous band's 'to'",
            )


@rule(P, "LS204")
def bands_gap(ctx: Context) -> Iterator[Finding]:
    """Bands that leave a gap: spend inside it earns nothing, rarely on purpose."""
    for i, bands, a, b in _adjacent_bands(ctx.data):
        end = bands[a].get("to")
        if end is not None and end < bands[b]["from"]:
            yield Finding(
                ("earn", i, "bands", b, "from"),
                f"amounts between {end} and {bands[b]['from']} fall in no band and earn nothing",
                f"start band {b + 1} at {end}, or add a band for the gap",
            )


@rule(P, "LS205")
def rate_or_bands(ctx: Context) -> Iterator[Finding]:
    """A spend rule has either one rate or bands of rates, never both, never neither."""
    for i, earn in enumerate(ctx.data.get("earn", [])):
        if earn["kind"] != "spend":
            continue
        if "rate" in earn and "bands" in earn:
            yield Finding(
                ("earn", i, "bands"),
                f"spend rule '{earn['id']}' has both 'rate' and 'bands'",
                "keep one: a single rate, or bands with a rate each",
                key=True,
            )
        elif "rate" not in earn and "bands" not in earn:
            yield Finding(
                ("earn", i),
                f"spend rule '{earn['id']}' says neither 'rate' nor 'bands'",
                "add `rate: 1` (points per currency unit) or bands",
            )
        if "banding" in earn and "bands" not in earn:
            yield Finding(
                ("earn", i, "banding"), f"spend rule '{earn['id']}' sets 'banding' but has no bands", key=True
            )


@rule(P, "LS206")
def reward_free(ctx: Context) -> Iterator[Finding]:
    """A reward that costs 0 points could be redeemed without limit."""
    for i, reward in enumerate(ctx.data.get("rewards", {}).get("catalog", [])):
        if reward["cost"] == 0:
            yield Finding(
                ("rewards", "catalog", i, "cost"),
                f"reward '{reward['id']}' costs 0 points: every member could redeem it without limit",
                "give it a cost in points",
            )


def _max_points(data: dict[str, Any], window: Duration) -> float:
    """Most points one member can earn within ``window``; inf when nothing bounds it."""
    days = window.approx_days
    period_days = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}
    levels = data.get("tiers", {}).get("levels", [])
    multiplier = max([lv.get("benefits", {}).get("earn_multiplier", 1) for lv in levels] + [1])
    total = 0.0

    def limited(points: float, limit: dict[str, Any] | None, natural: Duration | None) -> float:
        if limit is None:
            if natural is None:
                return math.inf
            return points * (math.floor(days / natural.approx_days) + 1)
        count = float(limit["count"])
        if limit["per"] == "lifetime":
            return points * count
        per = parse_duration(limit["per"]).approx_days
        return points * count * (math.floor(days / per) + 1)

    for earn in data.get("earn", []):
        if earn["kind"] == "action":
            natural = {
                "sign_up": Duration(months=10**6),
                "profile_complete": Duration(months=10**6),
                "app_download": Duration(months=10**6),
                "birthday": Duration(months=12),
                "membership_anniversary": Duration(months=12),
            }.get(earn["action"])
            total += limited(earn["points"], earn.get("limit"), natural)
            continue
        cap = earn.get("cap", {}).get("per_period")
        if cap is None:
            return math.inf
        total += cap["points"] * (math.floor(days / period_days[cap["period"]]) + 1)
    for action in data.get("community", {}).get("actions", []):
        total += limited(action["points"], action.get("limit"), None)
    referral = data.get("referral")
    if referral and referral.get("referrer", {}).get("points"):
        total += limited(referral["referrer"]["points"], referral.get("limit"), None)
    for campaign in data.get("campaigns", []):
        if campaign["kind"] == "bonus":
            if not campaign.get("once_per_member"):
                return math.inf
            total += campaign["points"]
        # Multiplier campaigns act within the caps, which already bound them.
    for perk in data.get("membership", {}).get("perks", []):
        if perk["kind"] == "bonus_points":
            total += perk["points"] * (math.floor(days / 30) + 1)
    return total * multiplier if total != math.inf else total


@rule(P, "LS207")
def reward_unreachable(ctx: Context) -> Iterator[Finding]:
    """A reward that costs more than any member can earn before points expire.

    Only decided when every source of points is capped (per-period caps, action limits)
    and points expire on a rolling or yearly basis; otherwise enough spend reaches anything.
    """
    data = ctx.data
    windows = []
    for rule_ in data.get("expiry", []):
        if rule_["kind"] == "rolling" and not rule_.get("exempt_tiers"):
            windows.append(parse_duration(rule_["after"]))
        elif rule_["kind"] == "fixed_date" and not rule_.get("exempt_tiers"):
            windows.append(Duration(months=12))
    if not windows:
        return
    window = min(windows)
    most = _max_points(data, window)
    if most == math.inf:
        return
    for i, reward in enumerate(data.get("rewards", {}).get("catalog", [])):
        if reward["cost"] > most:
            yield Finding(
                ("rewards", "catalog", i, "cost"),
                f"reward '{reward['id']}' costs {reward['cost']} points, but at most {int(most)} can be "
                f"earned within {window}, before they expire",
                "lower the cost, raise the caps, or lengthen the expiry",
            )


@rule(P, "LS208")
def expiry_vs_tier_window(ctx: Context) -> Iterator[Finding]:
    """Points expiring faster than the tier window that counts them confuses members."""
    tiers = ctx.data.get("tiers")
    if not tiers or tiers["metric"] != "points_earned":
        return
    window = tiers["window"]
    length = {"calendar_year": Duration(months=12), "anniversary": Duration(months=12)}.get(window["kind"])
    if window["kind"] == "rolling":
        length = parse_duration(window["length"])
    if length is None:
        return
    all_tiers = set(_tier_ids(ctx.data))
    for i, rule_ in enumerate(ctx.data.get("expiry", [])):
        if rule_["kind"] != "rolling" or set(rule_.get("exempt_tiers", [])) >= all_tiers:
            continue
        after = parse_duration(rule_["after"])
        if after.approx_days < length.approx_days:
            yield Finding(
                ("expiry", i, "after"),
                f"points expire after {after} but tiers count points earned over {length}: members "
                "keep tier credit for points they no longer have",
                "lengthen the expiry, exempt the tiers, or add `# loyalsim: ignore[LS208]` if intended",
            )


def _check_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


@rule(P, "LS209")
def campaign_dates(ctx: Context) -> Iterator[Finding]:
    """A campaign must not end before it starts."""
    for i, campaign in enumerate(ctx.data.get("campaigns", [])):
        start, end = campaign["start"], campaign["end"]
        if _check_date(start) and _check_date(end) and end < start:
            yield Finding(
                ("campaigns", i, "end"),
                f"campaign '{campaign['id']}' ends on {end}, before it starts on {start}",
                "swap the dates or fix the year",
            )


_NEEDS: dict[str, list[tuple[str, ...]]] = {
    "points": [("earn",), ("rewards",)],
    "tiered": [("tiers",), ("earn",)],
    "paid": [("membership",)],
    "cashback": [("cashback",)],
    "value": [("value",)],
    "community": [("community",)],
    "referral": [("referral",)],
}
_FAMILIES = {
    "points": ("earn", "rewards"),
    "tiers": ("tiers",),
    "paid": ("membership",),
    "cashback": ("cashback",),
    "value": ("value",),
    "community": ("community",),
    "referral": ("referral",),
}


@rule(P, "LS210")
def type_has_mechanics(ctx: Context) -> Iterator[Finding]:
    """The declared type must come with the mechanics it needs."""
    data = ctx.data
    kind = data["type"]
    if kind == "hybrid":
        present = [name for name, keys in _FAMILIES.items() if all(k in data for k in keys)]
        if len(present) < 2:
            yield Finding(
                ("type",),
                f"a hybrid program combines at least two mechanics, but this one has "
                f"{', '.join(present) if present else 'none'}",
                "add another mechanic, or declare the single type it is",
            )
        return
    for keys in _NEEDS[kind]:
        for key in keys:
            if key not in data:
                yield Finding(
                    ("type",),
                    f"a {kind} program needs '{key}', which is missing",
                    f"add a '{key}' section (see `loyalsim schema program`)",
                )


@rule(P, "LS220")
def mechanics_outside_type(ctx: Context) -> Iterator[Finding]:
    """A single-type program carrying another family's mechanics is really a hybrid."""
    data = ctx.data
    kind = data["type"]
    if kind == "hybrid":
        return
    own = {
        "points": {"points"},
        "tiered": {"points", "tiers"},
        "paid": {"paid", "points"},
        "cashback": {"cashback"},
        "value": {"value", "paid"},
        "community": {"community", "points"},
        "referral": {"referral", "points"},
    }[kind]
    for name, keys in _FAMILIES.items():
        if name not in own and all(k in data for k in keys) and name != "points":
            yield Finding(
                (keys[0],),
                f"this {kind} program also has {name} mechanics",
                "consider `type: hybrid`",
                key=True,
            )


@rule(P, "LS211")
def unknown_tiers(ctx: Context) -> Iterator[Finding]:
    """Every tier named anywhere must be defined in tiers.levels."""
    data = ctx.data
    known = _tier_ids(data)
    refs: list[tuple[tuple[str | int, ...], str]] = []
    for path, conditions in _conditions(data):
        refs += [((*path, "tiers", j), t) for j, t in enumerate(conditions.get("tiers", []))]
    for i, rule_ in enumerate(data.get("expiry", [])):
        refs += [(("expiry", i, "exempt_tiers", j), t) for j, t in enumerate(rule_.get("exempt_tiers", []))]
    for i, reward in enumerate(data.get("rewards", {}).get("catalog", [])):
        if "min_tier" in reward:
            refs.append((("rewards", "catalog", i, "min_tier"), reward["min_tier"]))
    for path, value in refs:
        if value not in known:
            message, hint = _unknown(value, known, "tier")
            yield Finding(path, message, hint)


@rule(P, "LS212")
def unknown_rewards(ctx: Context) -> Iterator[Finding]:
    """Every reward named anywhere must be in the catalog."""
    data = ctx.data
    known = _reward_ids(data)
    refs: list[tuple[tuple[str | int, ...], str]] = []
    default = data.get("rewards", {}).get("redemption", {}).get("default")
    if default is not None:
        refs.append((("rewards", "redemption", "default"), default))
    for i, reminder in enumerate(data.get("reminders", [])):
        if "reward" in reminder:
            refs.append((("reminders", i, "reward"), reminder["reward"]))
    for path, value in refs:
        if value not in known:
            message, hint = _unknown(value, known, "reward")
            yield Finding(path, message, hint)


@rule(P, "LS213")
def unknown_references(ctx: Context) -> Iterator[Finding]:
    """Campaigns must target defined earn rules; trials must convert to a defined plan."""
    data = ctx.data
    rules = [earn["id"] for earn in data.get("earn", [])]
    for i, campaign in enumerate(data.get("campaigns", [])):
        for j, target in enumerate(campaign.get("rules", [])):
            if target not in rules:
                message, hint = _unknown(target, rules, "earn rule")
                yield Finding(("campaigns", i, "rules", j), message, hint)
    membership = data.get("membership", {})
    plans = [plan["id"] for plan in membership.get("plans", [])]
    target = membership.get("trial", {}).get("converts_to")
    if target is not None and target not in plans:
        message, hint = _unknown(target, plans, "plan")
        yield Finding(("membership", "trial", "converts_to"), message, hint)


@rule(P, "LS214")
def duplicate_ids(ctx: Context) -> Iterator[Finding]:
    """Ids must be unique within their list, or references become ambiguous."""
    data = ctx.data
    lists: list[tuple[tuple[str | int, ...], list[Any]]] = [
        (("earn",), data.get("earn", [])),
        (("tiers", "levels"), data.get("tiers", {}).get("levels", [])),
        (("rewards", "catalog"), data.get("rewards", {}).get("catalog", [])),
        (("campaigns",), data.get("campaigns", [])),
        (("community", "actions"), data.get("community", {}).get("actions", [])),
        (("membership", "plans"), data.get("membership", {}).get("plans", [])),
    ]
    for path, items in lists:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            ident = item.get("id")
            if ident in seen:
                yield Finding(
                    (*path, i, "id"),
                    f"the id '{ident}' is already used by item {seen[ident] + 1} of this list",
                    "give every item its own id",
                )
            else:
                seen[ident] = i


def _rates(data: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], float, str]]:
    for i, rate in enumerate(data.get("cashback", {}).get("rates", [])):
        yield ("cashback", "rates", i, "rate"), rate["rate"], "cashback rate"
    dividend = data.get("value", {}).get("dividend")
    if dividend:
        yield ("value", "dividend", "rate"), dividend["rate"], "dividend rate"
    per_purchase = data.get("value", {}).get("donations", {}).get("per_purchase", {})
    if "rate" in per_purchase:
        yield ("value", "donations", "per_purchase", "rate"), per_purchase["rate"], "donation rate"


@rule(P, "LS215")
def rate_at_most_100(ctx: Context) -> Iterator[Finding]:
    """Rates are fractions: 1 or more means paying back everything (or more)."""
    for path, value, what in _rates(ctx.data):
        if value >= 1:
            yield Finding(
                path,
                f"a {what} of {value} pays back {value:.0%} of the purchase",
                f"rates are fractions: write {value / 100:g} for {value:g}%"
                if value > 1
                else "use a rate below 1",
            )


@rule(P, "LS216")
def rate_unusually_high(ctx: Context) -> Iterator[Finding]:
    """Cashback or dividend rates above 20% are rare enough to double-check."""
    for path, value, what in _rates(ctx.data):
        if 0.2 < value < 1:
            yield Finding(path, f"a {what} of {value:.0%} is unusually high", "check that this is intended")


@rule(P, "LS217")
def points_have_value(ctx: Context) -> Iterator[Finding]:
    """Points that buy rewards are a liability and need a monetary value to measure it."""
    data = ctx.data
    if "rewards" not in data:
        return
    points = data.get("points")
    if points is None:
        yield Finding(
            ("rewards",),
            "rewards exist but the program has no 'points' section",
            "add `points: {name: points, value: ...}`",
            key=True,
        )
    elif not points.get("value"):
        catalog = data["rewards"]["catalog"]
        suggestion = min((r["face_value"] / r["cost"] for r in catalog if r["cost"]), default=0.01)
        yield Finding(
            ("points",),
            "points have no monetary value although they buy rewards, so the liability cannot be valued",
            f"add `value: {suggestion:.4g}` (face value per point of the cheapest-per-point reward)",
            key=True,
        )


@rule(P, "LS218")
def reward_value_consistent(ctx: Context) -> Iterator[Finding]:
    """A reward worth far more or less per point than points.value skews the liability."""
    data = ctx.data
    value = data.get("points", {}).get("value")
    if not value:
        return
    for i, reward in enumerate(data.get("rewards", {}).get("catalog", [])):
        if reward["cost"] == 0 or reward["kind"] == "donation":
            continue
        per_point = reward["face_value"] / reward["cost"]
        if per_point > 2 * value or per_point < value / 2:
            yield Finding(
                ("rewards", "catalog", i, "face_value"),
                f"reward '{reward['id']}' is worth {per_point:.4g} per point, far from points.value ({value})",
                "set points.value to what a point is typically redeemed for",
            )


@rule(P, "LS219")
def multipliers_increase(ctx: Context) -> Iterator[Finding]:
    """Higher tiers normally earn at least as fast as lower ones."""
    levels = ctx.data.get("tiers", {}).get("levels", [])
    best, best_id = 0.0, ""
    for i, level in enumerate(levels):
        multiplier = level.get("benefits", {}).get("earn_multiplier", 1)
        if multiplier < best:
            yield Finding(
                ("tiers", "levels", i, "benefits", "earn_multiplier"),
                f"tier '{level['id']}' earns ×{multiplier}, less than the lower tier '{best_id}' (×{best})",
            )
        if multiplier >= best:
            best, best_id = multiplier, level["id"]


def _roundings(data: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if "rounding" in data.get("points", {}):
        yield ("points", "rounding"), data["points"]["rounding"]
    for i, earn in enumerate(data.get("earn", [])):
        if "rounding" in earn:
            yield ("earn", i, "rounding"), earn["rounding"]


@rule(P, "LS221")
def exact_needs_decimals(ctx: Context) -> Iterator[Finding]:
    """'exact' rounding keeps fractional points, which whole-point balances cannot hold."""
    if ctx.data.get("points", {}).get("decimals", 0) > 0:
        return
    for path, mode in _roundings(ctx.data):
        if mode == "exact":
            yield Finding(
                path,
                "rounding 'exact' keeps fractions of a point, but points.decimals is 0",
                "set points.decimals (e.g. 2), or choose floor_points or half_up",
            )


@rule(P, "LS222")
def referral_rewards_someone(ctx: Context) -> Iterator[Finding]:
    """A referral program that rewards nobody does nothing."""
    referral = ctx.data.get("referral")
    if referral is not None and not referral.get("referrer") and not referral.get("referee"):
        yield Finding(
            ("referral",),
            "the referral program rewards neither the referrer nor the referee",
            "add `referrer:` and/or `referee:` with points, credit or a discount",
            key=True,
        )
    for side in ("referrer", "referee"):
        if referral is not None and side in referral and not referral[side]:
            yield Finding(
                ("referral", side),
                f"the {side} receives nothing",
                "give points, credit or a discount",
                key=True,
            )


@rule(P, "LS223")
def caps_consistent(ctx: Context) -> Iterator[Finding]:
    """A per-period cap below the per-transaction cap makes the latter meaningless."""
    for i, earn in enumerate(ctx.data.get("earn", [])):
        cap = earn.get("cap", {})
        if (
            "per_transaction" in cap
            and "per_period" in cap
            and cap["per_period"]["points"] < cap["per_transaction"]
        ):
            yield Finding(
                ("earn", i, "cap", "per_period", "points"),
                f"the per-{cap['per_period']['period']} cap ({cap['per_period']['points']}) is below the "
                f"per-transaction cap ({cap['per_transaction']})",
            )


@rule(P, "LS224")
def auto_redeem_default(ctx: Context) -> Iterator[Finding]:
    """Auto-redemption must know which reward to redeem when there are several."""
    rewards = ctx.data.get("rewards", {})
    redemption = rewards.get("redemption", {})
    if (
        redemption.get("policy") == "auto"
        and "default" not in redemption
        and len(rewards.get("catalog", [])) > 1
    ):
        yield Finding(
            ("rewards", "redemption"),
            "auto-redemption with several rewards needs a 'default' reward",
            f"add `default: {rewards['catalog'][0]['id']}`",
            key=True,
        )


@rule(P, "LS225")
def campaign_effect(ctx: Context) -> Iterator[Finding]:
    """A multiplier of exactly 1 leaves points unchanged."""
    for i, campaign in enumerate(ctx.data.get("campaigns", [])):
        if campaign["kind"] == "multiplier" and campaign["multiplier"] == 1:
            yield Finding(
                ("campaigns", i, "multiplier"),
                f"campaign '{campaign['id']}' multiplies points by 1",
                "use 2 for double points",
            )


_MONEY_KEYS = frozenset(
    {"face_value", "fee", "threshold", "credit", "amount", "min_spend", "from", "to", "min_first_purchase"}
)


def _money_values(node: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _MONEY_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
                yield (*path, key), value
            else:
                yield from _money_values(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _money_values(value, (*path, i))


@rule(P, "LS226")
def money_precision(ctx: Context) -> Iterator[Finding]:
    """Amounts cannot be finer than the currency's minor unit (cents for USD)."""
    currency = ctx.data["metadata"]["currency"]
    places = minor_units(currency)
    for path, value in _money_values({k: v for k, v in ctx.data.items() if k != "points"}, ()):
        if decimals_of(value) > places:
            yield Finding(
                path,
                f"{value} has more decimals than {currency} allows ({places})",
                f"round it to {places} decimal place{'s' if places != 1 else ''}",
            )


@rule(P, "LS227")
def reminders_have_mechanics(ctx: Context) -> Iterator[Finding]:
    """A reminder about expiry, rewards or tiers the program does not have never fires."""
    data = ctx.data
    needs = {"points_expiring": "expiry", "reward_available": "rewards", "tier_progress": "tiers"}
    for i, reminder in enumerate(data.get("reminders", [])):
        needed = needs[reminder["kind"]]
        if needed not in data:
            yield Finding(
                ("reminders", i, "kind"), f"a {reminder['kind']} reminder, but the program has no {needed}"
            )


@rule(P, "LS228")
def dates_exist(ctx: Context) -> Iterator[Finding]:
    """Fixed expiry dates must exist on the calendar (02-30 does not)."""
    for i, rule_ in enumerate(ctx.data.get("expiry", [])):
        if rule_["kind"] != "fixed_date":
            continue
        text = rule_["date"]
        probe = text if len(text) == 10 else f"2024-{text}"  # a leap year, so 02-29 is allowed
        if not _check_date(probe):
            yield Finding(("expiry", i, "date"), f"'{text}' is not a real date", "check the month and day")


@rule(P, "LS230")
def min_balance_reasonable(ctx: Context) -> Iterator[Finding]:
    """A minimum remaining balance above the cheapest reward makes the reward hard to redeem."""
    rewards = ctx.data.get("rewards", {})
    floor = rewards.get("redemption", {}).get("min_balance")
    costs = [r["cost"] for r in rewards.get("catalog", []) if r["cost"]]
    if floor and costs and floor > min(costs):
        yield Finding(
            ("rewards", "redemption", "min_balance"),
            f"members must keep {floor} points after redeeming, more than the cheapest reward ({min(costs)})",
        )


# The numbers the compiler reads as exact ratios (compile.build: ctx.ratio); it bounds their
# denominators at 10^6 so that stacked multipliers stay inside 64-bit integers.
_RATIO_KEYS = frozenset({"rate", "earn_multiplier", "multiplier", "match_rate", "discount_rate"})
_MAX_RATIO_DECIMALS = 6


def _numbers_at(
    data: Any, keys: frozenset[str], path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in keys and isinstance(value, int | float) and not isinstance(value, bool):
                yield (*path, key), value
            else:
                yield from _numbers_at(value, keys, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _numbers_at(value, keys, (*path, index))


@rule(P, "LS240")
def ratio_precision(ctx: Context) -> Iterator[Finding]:
    """Rates and multipliers have at most six decimal places: the compiler refuses more, so
    validate says so first (one rule, checked where designers and CI look)."""
    for path, value in _numbers_at(ctx.data, _RATIO_KEYS):
        if decimals_of(value) > _MAX_RATIO_DECIMALS:
            yield Finding(
                path,
                f"{value} has more than {_MAX_RATIO_DECIMALS} decimal places",
                "round it to at most 6 decimals; loyalsim computes points exactly and bounds precision",
            )


@rule(P, "LS243")
def currency_is_iso4217(ctx: Context) -> Iterator[Finding]:
    """The currency must be a real ISO 4217 code: its minor unit sets how amounts are read."""
    code = ctx.data["metadata"]["currency"]
    if is_currency(code):
        return
    if code in NO_MINOR_UNIT:
        yield Finding(
            ("metadata", "currency"),
            f"{code} is an ISO 4217 unit with no minor unit (a metal, a fund "
            "or a test code), not a currency amounts can be written in",
            "use the currency the program prices in, such as USD or EUR",
        )
        return
    guess = did_you_mean(code, frozenset(MINOR_UNITS))
    hint = f"did you mean {guess}?" if guess else "use a code from ISO 4217, such as USD, EUR or JPY"
    yield Finding(("metadata", "currency"), f"{code} is not an ISO 4217 currency code", hint)
