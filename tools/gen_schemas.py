"""Generate the published JSON Schemas (program and scenario) from one Python source.

Where: build time only (``make schemas``); never imported by loyalsim at run time. The
generated files in ``src/loyalsim/schemas/`` are the published contract; the test
``tests/unit/schemas/test_schemas.py`` fails when they drift from this generator.

Why a generator: the helpers below refuse a property without a description and close
every object with ``unevaluatedProperties: false``, so no part of the language can be
undocumented or silently accept a typo.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

Schema = dict[str, Any]

BASE = "https://loyalsim.dev/schemas"
DURATION_PATTERN = (
    r"^(?:[1-9][0-9]{0,3} ?(?:day|days|week|weeks|month|months|year|years)"
    r"|P(?=[0-9])(?=[^1-9]*[1-9])(?:[0-9]{1,4}Y)?(?:[0-9]{1,4}M)?(?:[0-9]{1,4}W)?(?:[0-9]{1,4}D)?)$"
)
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
ID_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"


def prop(schema: Schema, description: str, **extra: Any) -> Schema:
    """Attach a description (and optional examples) to a property schema."""
    out = dict(schema)
    out["description"] = description
    out["markdownDescription"] = extra.pop("markdown", description)
    out.update(extra)
    return out


def obj(
    properties: dict[str, Schema],
    required: list[str] | None = None,
    **extra: Any,
) -> Schema:
    """A closed object: every property documented, unknown keys rejected."""
    for name, schema in properties.items():
        if "description" not in schema and "$ref" not in schema:
            raise ValueError(f"property {name!r} has no description")
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    out.update(extra)
    out.setdefault("unevaluatedProperties", False)
    return out


def uncertain(number: Schema, what: str) -> Schema:
    """A response parameter: a number in its range, or a distribution of it drawn once per
    replication (``{low, mode, high}`` triangular, ``{mean, sd}`` normal truncated to the range).
    ``x-pick`` lets the checker report the errors of the form the value was written in."""
    triangular = obj(
        {
            "low": prop(number, "The lowest plausible value."),
            "mode": prop(number, "The most likely value (used where one value is needed)."),
            "high": prop(number, "The highest plausible value."),
        },
        ["low", "mode", "high"],
    )
    normal = obj(
        {
            "mean": prop(number, "The central value (used where one value is needed)."),
            "sd": prop(POSITIVE, "Standard deviation; the draw is truncated to the parameter's range."),
        },
        ["mean", "sd"],
    )
    return prop(
        {
            "anyOf": [number, triangular, normal],
            "x-pick": True,
            "x-hint": "a number, {low, mode, high} or {mean, sd}",
        },
        f"{what}: a number, or a distribution drawn once per replication "
        "(`{low, mode, high}` triangular, `{mean, sd}` normal truncated to the range).",
    )


def ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def kinds(discriminator: str, variants: dict[str, tuple[Schema, list[str]]]) -> list[Schema]:
    """if/then branches keyed on a discriminator, so errors name the right variant."""
    branches = []
    for value, (properties, required) in variants.items():
        then: Schema = {"properties": properties}
        if required:
            then["required"] = required
        branches.append(
            {
                "if": {"properties": {discriminator: {"const": value}}, "required": [discriminator]},
                "then": then,
            }
        )
    return branches


NUMBER = {"type": "number"}
NONNEG = {"type": "number", "minimum": 0}
POSITIVE = {"type": "number", "exclusiveMinimum": 0}
COUNT = {"type": "integer", "minimum": 1}
NONNEG_INT = {"type": "integer", "minimum": 0}
RATE = {"type": "number", "minimum": 0, "x-hint": "a fraction: 0.05 means 5%"}


def common_defs() -> Schema:
    return {
        "id": prop(
            {
                "type": "string",
                "pattern": ID_PATTERN,
                "x-hint": "lower-case letters, digits, '-' or '_', starting with a letter",
            },
            "An identifier other parts of the program refer to: lower-case letters, digits, '-' and '_', starting with a letter.",
            examples=["gold", "base-earn"],
        ),
        "money": prop(
            {
                "type": "number",
                "minimum": 0,
                "x-hint": "an amount in the program's currency, e.g. 14.99, with no more decimals than the currency "
                "has (USD 2, JPY 0, KWD 3)",
            },
            "An amount of money in the program's currency, written as a decimal (14.99). "
            "loyalsim reads it exactly as written; it never rounds it through binary floating point.",
            examples=[2.0, 14.99],
        ),
        "duration": prop(
            {
                "type": "string",
                "pattern": DURATION_PATTERN,
                "x-hint": "a duration such as '30 days', '6 months', '1 year' or ISO 8601 'P6M'",
            },
            "A length of time: '30 days', '6 weeks', '6 months', '1 year', or ISO 8601 such as 'P6M' or 'P1Y'.",
            examples=["6 months", "30 days", "P1Y"],
        ),
        "date": prop(
            {
                "type": "string",
                "pattern": DATE_PATTERN,
                "format": "date",
                "x-hint": "an ISO date such as '2027-03-01' (quote it or not; loyalsim keeps dates as text)",
            },
            "A calendar date, ISO 8601 (YYYY-MM-DD).",
            examples=["2027-03-01"],
        ),
        "conditions": prop(
            obj(
                {
                    "category": prop(
                        array({"type": "string", "minLength": 1}, minItems=1, uniqueItems=True),
                        "The purchase qualifies only if its category is one of these.",
                        examples=[["own_brand"]],
                    ),
                    "exclude_category": prop(
                        array({"type": "string", "minLength": 1}, minItems=1, uniqueItems=True),
                        "The purchase does not qualify if its category is one of these.",
                        examples=[["gift_cards", "tobacco"]],
                    ),
                    "channel": prop(
                        array({"type": "string", "minLength": 1}, minItems=1, uniqueItems=True),
                        "The purchase qualifies only through one of these channels.",
                        examples=[["app", "online"]],
                    ),
                    "min_spend": prop(
                        ref("money"), "The purchase qualifies only from this amount upward (inclusive)."
                    ),
                    "tiers": prop(
                        array(ref("id"), minItems=1, uniqueItems=True),
                        "The member qualifies only while in one of these tiers (ids from tiers.levels).",
                    ),
                }
            ),
            "Conditions a purchase (and its member) must meet for the rule to apply. All given conditions must hold.",
        ),
        "limit": prop(
            obj(
                {
                    "count": prop(COUNT, "How many times at most."),
                    "per": prop(
                        {
                            "anyOf": [ref("duration"), {"const": "lifetime"}],
                            "x-hint": "a duration such as '1 month', or 'lifetime'",
                        },
                        "The window the count applies to: a duration ('1 month') or 'lifetime'.",
                        examples=["1 month", "lifetime"],
                    ),
                },
                ["count", "per"],
            ),
            "A frequency limit: at most `count` times per window.",
        ),
        "reward_grant": prop(
            obj(
                {
                    "points": prop(COUNT, "Points granted."),
                    "credit": prop(ref("money"), "Store credit granted, in the program's currency."),
                    "discount_rate": prop(
                        {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                        "A one-off discount on the qualifying purchase (0.2 = 20%).",
                    ),
                }
            ),
            "What someone receives: points, store credit or a one-off discount (any combination).",
        ),
    }


def program_schema() -> Schema:
    d = common_defs()
    rounding = prop(
        enum("floor_amount", "floor_points", "half_up", "half_even", "ceil_points", "exact"),
        "How fractional points are settled. floor_amount: only whole currency units count "
        "($120.99 counts as $120), then points are floored. floor_points: points are computed "
        "on the exact amount, then floored. half_up / half_even: the exact points are rounded to "
        "the nearest whole point (ties up / to even). ceil_points: rounded up. exact: points keep "
        "`points.decimals` decimal places (rounded half-even at that precision).",
        examples=["floor_amount"],
    )
    d["rounding"] = rounding
    d["cap"] = prop(
        obj(
            {
                "per_transaction": prop(COUNT, "Most points one transaction can earn from this rule."),
                "per_period": prop(
                    obj(
                        {
                            "points": prop(COUNT, "Most points in one period."),
                            "period": prop(
                                enum("day", "week", "month", "quarter", "year"),
                                "The calendar period the cap resets on.",
                            ),
                        },
                        ["points", "period"],
                    ),
                    "Most points one member can earn from this rule in a calendar period.",
                ),
            }
        ),
        "Caps on what the rule can earn.",
    )
    band = obj(
        {
            "from": prop(ref("money"), "Lower bound of the band (inclusive)."),
            "to": prop(ref("money"), "Upper bound of the band (exclusive); omit for no upper bound."),
            "rate": prop(NONNEG, "Points per currency unit spent inside this band."),
        },
        ["from", "rate"],
    )
    earn_common = {
        "id": prop(ref("id"), "The rule's identifier (campaigns refer to it)."),
        "kind": prop(
            enum("spend", "visit", "item", "action"),
            "What earns: spend (per amount), visit (per transaction), item (per item bought) or action (a member event such as a birthday).",
        ),
        "description": prop({"type": "string"}, "Plain-words description shown by `loyalsim explain`."),
        "when": ref("conditions"),
        "cap": ref("cap"),
    }
    earn_rule = obj(
        earn_common,
        ["id", "kind"],
        allOf=kinds(
            "kind",
            {
                "spend": (
                    {
                        "rate": prop(
                            NONNEG,
                            "Points per currency unit spent (1 = one point per dollar).",
                            examples=[1, 2],
                        ),
                        "bands": prop(
                            array(band, minItems=1),
                            "Rates by band of the transaction amount, e.g. 1 per $ between 50 and 100, 2 per $ above 100.",
                            examples=[[{"from": 50, "to": 100, "rate": 1}, {"from": 100, "rate": 2}]],
                        ),
                        "banding": prop(
                            enum("marginal", "whole"),
                            "marginal (default): each band's rate applies to the part of the amount inside it. whole: the whole amount earns the rate of the band it falls in.",
                        ),
                        "rounding": ref("rounding"),
                    },
                    [],
                ),
                "visit": ({"points": prop(COUNT, "Points per qualifying transaction.")}, ["points"]),
                "item": ({"points": prop(COUNT, "Points per qualifying item (quantity).")}, ["points"]),
                "action": (
                    {
                        "action": prop(
                            enum(
                                "sign_up",
                                "birthday",
                                "membership_anniversary",
                                "profile_complete",
                                "app_download",
                                "survey",
                            ),
                            "The member event that earns.",
                        ),
                        "points": prop(COUNT, "Points for the event."),
                        "limit": ref("limit"),
                    },
                    ["action", "points"],
                ),
            },
        ),
        defaultSnippets=[
            {
                "label": "spend rule",
                "body": {
                    "id": "${1:base}",
                    "kind": "spend",
                    "rate": "^${2:1}",
                    "rounding": "${3:floor_amount}",
                },
            },
            {
                "label": "banded spend rule",
                "body": {
                    "id": "${1:bands}",
                    "kind": "spend",
                    "bands": [{"from": 50, "to": 100, "rate": 1}, {"from": 100, "rate": 2}],
                    "rounding": "floor_amount",
                },
            },
            {
                "label": "birthday bonus",
                "body": {
                    "id": "birthday",
                    "kind": "action",
                    "action": "birthday",
                    "points": "^${1:100}",
                    "limit": {"count": 1, "per": "1 year"},
                },
            },
        ],
    )
    level = obj(
        {
            "id": prop(ref("id"), "The level's identifier."),
            "name": prop({"type": "string"}, "Display name."),
            "threshold": prop(
                NONNEG,
                "Qualification metric needed within the window to reach this level. The first level is usually 0.",
            ),
            "benefits": prop(
                obj(
                    {
                        "earn_multiplier": prop(
                            POSITIVE,
                            "Multiplier on points from spend rules (1.2 earns 20% more).",
                            examples=[1.2],
                        ),
                        "bonus_points": prop(COUNT, "Points granted once on reaching the level."),
                        "perks": prop(
                            array(
                                obj(
                                    {
                                        "name": prop({"type": "string", "minLength": 1}, "What the perk is."),
                                        "value": prop(
                                            ref("money"),
                                            "Cost to the company per member per year, for the forecast.",
                                        ),
                                    },
                                    ["name"],
                                )
                            ),
                            "Non-points perks (free shipping, birthday gift) with their yearly cost per member.",
                        ),
                    }
                ),
                "What members of this level receive.",
            ),
        },
        ["id", "threshold"],
    )
    tiers = obj(
        {
            "metric": prop(enum("points_earned", "spend", "visits"), "What counts toward qualification."),
            "window": prop(
                obj(
                    {
                        "kind": prop(
                            enum("calendar_year", "rolling", "anniversary", "lifetime"),
                            "calendar_year: counts reset each 1 January; rolling: the last `length`; anniversary: each year from enrolment; lifetime: never reset.",
                        ),
                        "length": prop(ref("duration"), "Length of a rolling window."),
                    },
                    ["kind"],
                    allOf=kinds("kind", {"rolling": ({}, ["length"])}),
                ),
                "The period over which the metric is counted.",
            ),
            "evaluation": prop(
                enum("immediate", "monthly"),
                "When upgrades take effect: immediate (on the qualifying transaction) or at month end.",
            ),
            "levels": prop(array(level, minItems=1), "The levels, lowest first."),
            "downgrade": prop(
                obj(
                    {
                        "policy": prop(
                            enum("reset", "one_level", "none"),
                            "At the end of a window a member who has not requalified drops to the level they qualify for (reset), one level down (one_level), or keeps their level (none).",
                        ),
                        "grace": prop(ref("duration"), "Extra time before a downgrade takes effect."),
                    },
                    ["policy"],
                ),
                "What happens to members who do not requalify.",
            ),
        },
        ["metric", "window", "levels"],
    )
    reward = obj(
        {
            "id": prop(ref("id"), "The reward's identifier."),
            "name": prop({"type": "string"}, "Display name."),
            "kind": prop(
                enum("discount", "free_item", "pay_with_points", "gift_card", "experience", "donation"),
                "What the member gets. pay_with_points: points pay for part of a purchase at `face_value` per `cost` points.",
            ),
            "cost": prop(NONNEG_INT, "Points the reward costs.", examples=[60, 500]),
            "face_value": prop(
                ref("money"), "What the reward is worth to the member, in the program's currency."
            ),
            "min_tier": prop(ref("id"), "Lowest tier that may redeem it."),
        },
        ["id", "kind", "cost", "face_value"],
    )
    rewards = obj(
        {
            "catalog": prop(array(reward, minItems=1), "The rewards members can redeem points for."),
            "redemption": prop(
                obj(
                    {
                        "policy": prop(
                            enum("auto", "choice"),
                            "auto: points are redeemed for `default` as soon as the balance allows; choice: members decide (their propensity comes from the scenario).",
                        ),
                        "default": prop(
                            ref("id"), "The reward auto-redemption uses (an id from the catalog)."
                        ),
                        "min_balance": prop(NONNEG_INT, "Points that must remain after a redemption."),
                    },
                    ["policy"],
                ),
                "How points turn into rewards.",
            ),
        },
        ["catalog"],
    )
    expiry_rule = obj(
        {
            "kind": prop(
                enum("rolling", "fixed_date", "inactivity"),
                "rolling: points expire `after` their earning; fixed_date: all points expire on a date (or every year on a month-day); inactivity: the whole balance expires after `after` without activity.",
            ),
            "after": prop(ref("duration"), "How long points (or the member) may stay unused."),
            "to_month_end": prop(
                {"type": "boolean"}, "Rolling expiry happens at the end of the month in which it falls."
            ),
            "date": prop(
                {
                    "type": "string",
                    "pattern": r"^(?:[0-9]{4}-)?[0-9]{2}-[0-9]{2}$",
                    "x-hint": "a full date '2027-12-31' or a yearly month-day '12-31'",
                },
                "Fixed expiry: a full date (once) or a month-day such as '12-31' (every year).",
            ),
            "activity": prop(
                enum("purchase", "any"), "Inactivity expiry: what counts as activity (default purchase)."
            ),
            "exempt_tiers": prop(
                array(ref("id"), uniqueItems=True),
                "Tiers whose members' points do not expire under this rule.",
            ),
        },
        ["kind"],
        allOf=kinds(
            "kind", {"rolling": ({}, ["after"]), "inactivity": ({}, ["after"]), "fixed_date": ({}, ["date"])}
        ),
    )
    plan = obj(
        {
            "id": prop(ref("id"), "The plan's identifier."),
            "fee": prop(ref("money"), "The fee per period."),
            "period": prop(
                {
                    "anyOf": [ref("duration"), {"const": "one_time"}],
                    "x-hint": "a duration such as '1 month', or 'one_time'",
                },
                "How often the fee is charged: a duration, or 'one_time' for a lifetime fee.",
            ),
        },
        ["id", "fee", "period"],
    )
    perk = obj(
        {
            "kind": prop(
                enum("discount", "free_shipping", "earn_multiplier", "bonus_points", "free_item", "other"),
                "The perk.",
            ),
            "rate": prop(
                {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "Discount rate (0.05 = 5%) for kind discount.",
            ),
            "multiplier": prop(POSITIVE, "Earn multiplier for kind earn_multiplier."),
            "points": prop(COUNT, "Points per period for kind bonus_points."),
            "value": prop(
                ref("money"),
                "Cost to the company per use (free_shipping, free_item) or per member per year (other).",
            ),
            "name": prop({"type": "string"}, "Display name."),
            "when": ref("conditions"),
        },
        ["kind"],
        allOf=kinds(
            "kind",
            {
                "discount": ({}, ["rate"]),
                "earn_multiplier": ({}, ["multiplier"]),
                "bonus_points": ({}, ["points"]),
                "free_shipping": ({}, ["value"]),
                "free_item": ({}, ["value"]),
            },
        ),
    )
    membership = obj(
        {
            "plans": prop(array(plan, minItems=1), "The paid plans."),
            "trial": prop(
                obj(
                    {
                        "length": prop(ref("duration"), "Length of the free trial."),
                        "converts_to": prop(ref("id"), "The plan a trial converts to."),
                    },
                    ["length"],
                ),
                "A free trial before the first fee.",
            ),
            "renewal": prop(
                enum("auto", "manual"), "auto: renews until cancelled; manual: the member must renew."
            ),
            "perks": prop(array(perk), "What paying members receive."),
        },
        ["plans"],
    )
    cashback = obj(
        {
            "rates": prop(
                array(
                    obj(
                        {
                            "rate": prop(
                                {
                                    "type": "number",
                                    "exclusiveMinimum": 0,
                                    "x-hint": "a fraction: 0.05 means 5%",
                                },
                                "Share of the qualifying amount paid back (0.01 = 1%).",
                            ),
                            "when": ref("conditions"),
                            "cap": prop(ref("money"), "Most cashback per transaction from this rate."),
                        },
                        ["rate"],
                    ),
                    minItems=1,
                ),
                "Cashback rates; the first whose conditions match a purchase applies.",
            ),
            "payout": prop(
                obj(
                    {
                        "threshold": prop(ref("money"), "Minimum accrued cashback before it is paid out."),
                        "form": prop(enum("cash", "store_credit", "voucher"), "How cashback is paid."),
                        "schedule": prop(
                            enum("monthly", "quarterly", "annually", "on_request"),
                            "When accrued cashback is paid.",
                        ),
                    },
                    ["schedule"],
                ),
                "When and how accrued cashback is paid.",
            ),
            "expiry": prop(
                obj({"after": prop(ref("duration"), "Unclaimed payouts expire after this long.")}, ["after"]),
                "Expiry of unclaimed payouts.",
            ),
        },
        ["rates"],
    )
    value = obj(
        {
            "dividend": prop(
                obj(
                    {
                        "rate": prop(
                            {"type": "number", "exclusiveMinimum": 0, "x-hint": "a fraction: 0.10 means 10%"},
                            "Share of eligible spend returned once a year (0.10 = 10%).",
                        ),
                        "eligible": ref("conditions"),
                        "paid_in_month": prop(
                            {"type": "integer", "minimum": 1, "maximum": 12},
                            "Month of the year the dividend is issued (1-12).",
                        ),
                        "form": prop(enum("voucher", "store_credit", "cash"), "How the dividend is paid."),
                        "expiry": prop(
                            obj(
                                {"after": prop(ref("duration"), "Dividends expire this long after issue.")},
                                ["after"],
                            ),
                            "Expiry of issued dividends.",
                        ),
                    },
                    ["rate"],
                ),
                "A yearly dividend on eligible purchases (co-op style).",
            ),
            "donations": prop(
                obj(
                    {
                        "per_purchase": prop(
                            obj(
                                {
                                    "amount": prop(ref("money"), "A fixed donation per purchase."),
                                    "rate": prop(
                                        {"type": "number", "exclusiveMinimum": 0, "x-hint": "a fraction"},
                                        "A share of each purchase donated.",
                                    ),
                                }
                            ),
                            "What the company donates for each purchase.",
                        ),
                        "points_to_donation": prop(
                            obj(
                                {
                                    "points": prop(COUNT, "Points converted per step."),
                                    "amount": prop(ref("money"), "Donation per step."),
                                    "match_rate": prop(
                                        NONNEG,
                                        "What the company adds per unit donated by members (1 = matched).",
                                    ),
                                },
                                ["points", "amount"],
                            ),
                            "Members can convert points into donations.",
                        ),
                        "cause": prop({"type": "string"}, "Who receives the donations."),
                    }
                ),
                "Donations the program makes.",
            ),
        }
    )
    community = obj(
        {
            "actions": prop(
                array(
                    obj(
                        {
                            "id": prop(ref("id"), "The action's identifier."),
                            "kind": prop(
                                enum(
                                    "review",
                                    "social_share",
                                    "event",
                                    "forum_post",
                                    "photo",
                                    "challenge",
                                    "other",
                                ),
                                "What the member does.",
                            ),
                            "points": prop(COUNT, "Points per action."),
                            "limit": ref("limit"),
                        },
                        ["id", "kind", "points"],
                    ),
                    minItems=1,
                ),
                "Engagement actions that earn points.",
            ),
        },
        ["actions"],
    )
    referral = obj(
        {
            "qualifying_event": prop(
                enum("sign_up", "first_purchase"), "What the referee must do for the rewards to be granted."
            ),
            "min_first_purchase": prop(ref("money"), "Smallest first purchase that qualifies."),
            "window": prop(ref("duration"), "The referee must qualify within this long of being referred."),
            "referrer": ref("reward_grant"),
            "referee": ref("reward_grant"),
            "limit": ref("limit"),
        },
        ["qualifying_event"],
    )
    campaign = obj(
        {
            "id": prop(ref("id"), "The campaign's identifier."),
            "name": prop({"type": "string"}, "Display name."),
            "start": prop(ref("date"), "First day (inclusive)."),
            "end": prop(ref("date"), "Last day (inclusive)."),
            "kind": prop(
                enum("multiplier", "bonus"),
                "multiplier: multiplies points from the targeted rules; bonus: fixed points per qualifying purchase.",
            ),
            "multiplier": prop(POSITIVE, "Multiplier on points (2 = double points)."),
            "points": prop(COUNT, "Bonus points per qualifying purchase."),
            "rules": prop(
                array(ref("id"), uniqueItems=True),
                "Earn rules the campaign applies to (all spend rules if omitted).",
            ),
            "when": ref("conditions"),
            "once_per_member": prop({"type": "boolean"}, "The bonus is granted at most once per member."),
        },
        ["id", "start", "end", "kind"],
        allOf=kinds("kind", {"multiplier": ({}, ["multiplier"]), "bonus": ({}, ["points"])}),
    )
    reminder = obj(
        {
            "kind": prop(
                enum("points_expiring", "reward_available", "tier_progress"), "What the reminder is about."
            ),
            "before": prop(ref("duration"), "points_expiring: how long before expiry the reminder is sent."),
            "within": prop(
                NONNEG, "tier_progress: sent when the member is within this much of the next threshold."
            ),
            "reward": prop(
                ref("id"), "reward_available: the reward the reminder is about (any reward if omitted)."
            ),
            "channel": prop(enum("email", "push", "sms", "in_app"), "How it is sent."),
            "cost": prop(ref("money"), "Cost per reminder sent."),
        },
        ["kind"],
        allOf=kinds("kind", {"points_expiring": ({}, ["before"]), "tier_progress": ({}, ["within"])}),
    )
    points = obj(
        {
            "name": prop(
                {"type": "string", "minLength": 1},
                "What the currency is called (points, stars, miles).",
                examples=["stars"],
            ),
            "value": prop(
                ref("money"),
                "What one point is worth when redeemed, in the program's currency; used to value the liability.",
                examples=[0.033],
            ),
            "decimals": prop(
                {"type": "integer", "minimum": 0, "maximum": 4},
                "Decimal places a balance can hold (default 0: whole points).",
            ),
            "rounding": ref("rounding"),
        },
        ["name"],
    )
    metadata = obj(
        {
            "name": prop(ref("id"), "Machine name of the program."),
            "title": prop({"type": "string"}, "Human title."),
            "currency": prop(
                {"type": "string", "pattern": "^[A-Z]{3}$", "x-hint": "an ISO 4217 code such as USD or EUR"},
                "ISO 4217 currency code.",
                examples=["USD", "EUR"],
            ),
            "description": prop({"type": "string"}, "What the program is for."),
            "sources": prop(
                array({"type": "string"}),
                "Where the program's figures come from, with the date they were public.",
            ),
        },
        ["name", "currency"],
    )
    d.update(
        earn_rule=earn_rule,
        tiers=tiers,
        rewards=rewards,
        expiry_rule=expiry_rule,
        membership=membership,
        cashback=cashback,
        value=value,
        community=community,
        referral=referral,
        campaign=campaign,
        reminder=reminder,
        points=points,
        metadata=metadata,
    )
    top = obj(
        {
            "$schema": prop({"type": "string"}, "The JSON Schema this file follows (for editors)."),
            "apiVersion": prop({"const": "loyalsim/v1"}, "Language version: loyalsim/v1."),
            "kind": prop({"const": "Program"}, "Always Program for a program file."),
            "metadata": prop(ref("metadata"), "Name, title, currency and description."),
            "type": prop(
                enum("points", "tiered", "paid", "cashback", "value", "community", "referral", "hybrid"),
                "The kind of program this is meant to be; the validator checks that the mechanics it needs are present.",
            ),
            "points": prop(ref("points"), "The points currency: its name, value and rounding."),
            "earn": prop(array(ref("earn_rule"), minItems=1), "How members earn points."),
            "tiers": prop(ref("tiers"), "Status tiers."),
            "rewards": prop(ref("rewards"), "What points buy, and how redemption happens."),
            "expiry": prop(array(ref("expiry_rule"), minItems=1), "When points expire."),
            "membership": prop(ref("membership"), "Paid membership."),
            "cashback": prop(ref("cashback"), "Cashback on purchases."),
            "value": prop(ref("value"), "Value-based rewards: dividends and donations."),
            "community": prop(ref("community"), "Engagement actions."),
            "referral": prop(ref("referral"), "Refer-a-friend rewards."),
            "campaigns": prop(array(ref("campaign")), "Time-boxed multipliers and bonuses."),
            "reminders": prop(array(ref("reminder")), "Nudges sent to members."),
        },
        ["apiVersion", "kind", "metadata", "type"],
        defaultSnippets=[
            {
                "label": "points program",
                "body": {
                    "apiVersion": "loyalsim/v1",
                    "kind": "Program",
                    "metadata": {"name": "${1:my-program}", "currency": "${2:USD}"},
                    "type": "points",
                    "points": {"name": "points", "value": 0.01, "rounding": "floor_amount"},
                    "earn": [{"id": "base", "kind": "spend", "rate": 1}],
                    "rewards": {
                        "catalog": [{"id": "five-off", "kind": "discount", "cost": 500, "face_value": 5}],
                        "redemption": {"policy": "auto", "default": "five-off"},
                    },
                },
            }
        ],
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE}/program.schema.json",
        "title": "loyalsim program",
        "description": "A customer loyalty program for loyalsim: points, tiers, rewards, expiry, paid membership, cashback, value-based rewards, community, referral, campaigns and reminders.",
        **top,
        "$defs": d,
    }


def scenario_schema() -> Schema:
    d = common_defs()
    bgnbd = obj(
        {
            "r": prop(POSITIVE, "Shape of the gamma distribution of purchase rates."),
            "alpha": prop(POSITIVE, "Scale of the gamma distribution of purchase rates (in time units)."),
            "a": prop(POSITIVE, "Beta distribution of dropout probability: a."),
            "b": prop(POSITIVE, "Beta distribution of dropout probability: b."),
        },
        ["r", "alpha", "a", "b"],
    )
    pnbd = obj(
        {
            "r": prop(POSITIVE, "Shape of the gamma distribution of purchase rates."),
            "alpha": prop(POSITIVE, "Scale of the gamma distribution of purchase rates."),
            "s": prop(POSITIVE, "Shape of the gamma distribution of dropout rates."),
            "beta": prop(POSITIVE, "Scale of the gamma distribution of dropout rates."),
        },
        ["r", "alpha", "s", "beta"],
    )
    purchase = obj(
        {
            "model": prop(
                enum("bgnbd", "pareto_nbd"),
                "BG/NBD (Fader, Hardie & Lee 2005) or Pareto/NBD (Schmittlein, Morrison & Colombo 1987).",
            ),
            "time_unit": prop(enum("day", "week"), "Time unit the parameters are in."),
            "params": prop(
                {"type": "object"},
                "Model parameters: r, alpha, a, b (bgnbd) or r, alpha, s, beta (pareto_nbd).",
            ),
        },
        ["model", "time_unit", "params"],
        allOf=[
            {
                "if": {"properties": {"model": {"const": "bgnbd"}}, "required": ["model"]},
                "then": {"properties": {"params": bgnbd}},
            },
            {
                "if": {"properties": {"model": {"const": "pareto_nbd"}}, "required": ["model"]},
                "then": {"properties": {"params": pnbd}},
            },
        ],
    )
    spend = obj(
        {
            "model": prop(
                enum("gamma_gamma", "lognormal"),
                "Gamma-Gamma (Fader, Hardie & Lee 2005) or lognormal spend per purchase.",
            ),
            "params": prop(
                {"type": "object"}, "gamma_gamma: p, q, gamma; lognormal: mean and sigma of the amount."
            ),
        },
        ["model", "params"],
        allOf=[
            {
                "if": {"properties": {"model": {"const": "gamma_gamma"}}, "required": ["model"]},
                "then": {
                    "properties": {
                        "params": obj(
                            {
                                "p": prop(POSITIVE, "Shape of spend per transaction."),
                                "q": prop(POSITIVE, "Shape of the gamma distribution of customers' scale."),
                                "gamma": prop(
                                    POSITIVE, "Scale of the gamma distribution of customers' scale."
                                ),
                            },
                            ["p", "q", "gamma"],
                        )
                    }
                },
            },
            {
                "if": {"properties": {"model": {"const": "lognormal"}}, "required": ["model"]},
                "then": {
                    "properties": {
                        "params": obj(
                            {
                                "mean": prop(POSITIVE, "Mean amount per purchase."),
                                "sigma": prop(POSITIVE, "Standard deviation of log amount."),
                            },
                            ["mean", "sigma"],
                        )
                    }
                },
            },
        ],
    )
    response = obj(
        {
            "enrolment_rate": prop(
                {"type": "number", "minimum": 0, "maximum": 1}, "Share of customers who join the program."
            ),
            "frequency_lift": prop(NONNEG, "Relative increase in purchase rate for members (0.05 = +5%)."),
            "enrolment_delay": prop(
                NONNEG,
                "Mean days from a member's first purchase (day 0 for the existing customers of a launch) "
                "to joining, exponential; 0: they join at their first purchase.",
            ),
            "enrolment_selection": prop(
                NONNEG,
                "Self-selection: the odds of joining scale with (purchase rate / the segment's mean) to this "
                "power, and the delay shrinks by the same factor (0: joining is independent of buying).",
            ),
            "value_response": prop(
                obj(
                    {
                        "reference": prop(
                            {"type": "string", "minLength": 1},
                            "The program the frequency_lift was measured on (a path relative to this file); "
                            "default: the scenario's first program.",
                        ),
                        "half_value": prop(
                            POSITIVE,
                            "Value back per unit of spend at which the lift is half its ceiling "
                            "(0.02: 2 cents a dollar); smaller: the lift saturates sooner.",
                        ),
                    },
                    ["half_value"],
                ),
                "Make the frequency lift depend on what the program gives back: frequency_lift is the lift "
                "measured on the reference program, scaled under another by g(v) / g(v_ref), "
                "g(v) = v / (v + half_value), v the value returned per unit of spend.",
            ),
            "lift_duration": prop(
                NONNEG,
                "Days a member's purchase-rate lift lasts after they join, then their base rate again "
                "(an effect that fades); 0: it lasts.",
            ),
            "goal_gradient": prop(
                NONNEG, "Extra purchase-rate lift as a member nears a reward or tier threshold."
            ),
            "post_reward_lift": prop(NONNEG, "Lift in purchase rate just after a reward."),
            "churn_reduction": prop(
                {"type": "number", "minimum": 0, "maximum": 1},
                "Relative reduction in dropout from accrued value and status.",
            ),
            "redemption_propensity": prop(
                {"type": "number", "minimum": 0, "maximum": 1},
                "Probability a member redeems when able (drives breakage).",
            ),
            "action_rates": prop(
                {"type": "object", "additionalProperties": NONNEG},
                "Community actions per member per month, by action id.",
            ),
            "community_retention": prop(
                {"type": "number", "minimum": 0, "maximum": 1},
                "Relative reduction in dropout for a member who took a community action in the month.",
            ),
            "referral_rate": prop(NONNEG, "Referrals per member per year."),
            "referee_conversion": prop(
                {"type": "number", "minimum": 0, "maximum": 1}, "Share of referees who qualify."
            ),
            "membership_take_up": prop(
                {"type": "number", "minimum": 0, "maximum": 1},
                "Share of customers who start a paid membership or trial.",
            ),
            "trial_conversion": prop(
                {"type": "number", "minimum": 0, "maximum": 1}, "Share of trials that convert to paid."
            ),
            "renewal": prop(
                obj(
                    {
                        "alpha": prop(POSITIVE, "sBG alpha."),
                        "beta": prop(POSITIVE, "sBG beta."),
                    },
                    ["alpha", "beta"],
                ),
                "Paid-membership renewal as a shifted-beta-geometric process.",
            ),
            "cashback_lift": prop(NONNEG, "Purchase-rate lift from cashback."),
            "value_affinity": prop(
                {"type": "number", "minimum": 0, "maximum": 1},
                "Response to value-based rewards (dividends, donations).",
            ),
            "reminder_response": prop(
                {"type": "number", "minimum": 0, "maximum": 1},
                "Probability a reminder prompts a purchase or redemption.",
            ),
            "donation_propensity": prop(
                {"type": "number", "minimum": 0, "maximum": 1},
                "Probability, each month end, that a member who can convert points into donations does so (all whole steps).",
            ),
        }
    )
    d["uncertain_share"] = uncertain(
        {"type": "number", "minimum": 0, "maximum": 1}, "A share between 0 and 1"
    )
    d["uncertain_nonnegative"] = uncertain(NONNEG, "A number of at least 0")
    for name, schema in response["properties"].items():
        if schema.get("type") == "number":
            shape = "uncertain_share" if "maximum" in schema else "uncertain_nonnegative"
            response["properties"][name] = prop(ref(shape), schema["description"])
    segment = obj(
        {
            "id": prop(ref("id"), "The segment's identifier."),
            "share": prop(
                {"type": "number", "exclusiveMinimum": 0, "maximum": 1}, "Share of customers in this segment."
            ),
            "purchase": prop(purchase, "Purchase and dropout process."),
            "spend": prop(spend, "Spend per purchase."),
            "basket": prop(
                obj(
                    {
                        "category": prop(
                            {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
                            "Share of purchases by category.",
                        ),
                        "channel": prop(
                            {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
                            "Share of purchases by channel.",
                        ),
                    }
                ),
                "Mix of categories and channels.",
            ),
            "response": prop(response, "Behavioural response to the program."),
        },
        ["id", "share", "purchase", "spend"],
    )
    history = obj(
        {
            "transactions": prop(
                {"type": "string", "minLength": 1},
                "The transaction file (CSV or Parquet, read as `loyalsim earn` reads it), relative to "
                "this file.",
            ),
            "columns": prop(
                {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}},
                "Map the file's headers, as `--column NAME=SOURCE` does: `{amount: total_usd}`.",
            ),
            "as_of": prop(
                ref("date"),
                "The last day of history; the forecast starts the day after. No transaction after "
                "it is used.",
            ),
            "purchase": prop(
                obj(
                    {
                        "model": prop(
                            enum("bgnbd", "pareto_nbd"), "The purchase model of the existing customers."
                        ),
                        "time_unit": prop(enum("day", "week"), "Time unit of the fit (and of `params`)."),
                        "params": prop(
                            {"type": "object"},
                            "Parameters (r, alpha, a, b or r, alpha, s, beta) instead of a fit to the history.",
                        ),
                    },
                    ["model", "time_unit"],
                    allOf=[
                        {
                            "if": {"properties": {"model": {"const": "bgnbd"}}, "required": ["model"]},
                            "then": {"properties": {"params": bgnbd}},
                        },
                        {
                            "if": {"properties": {"model": {"const": "pareto_nbd"}}, "required": ["model"]},
                            "then": {"properties": {"params": pnbd}},
                        },
                    ],
                ),
                "Fitted to the history up to `as_of` unless `params` are given.",
            ),
            "spend": prop(
                obj(
                    {
                        "model": prop(enum("gamma_gamma"), "Gamma-Gamma spend per purchase."),
                        "params": prop(
                            obj(
                                {
                                    "p": prop(POSITIVE, "Shape of spend per transaction."),
                                    "q": prop(
                                        POSITIVE, "Shape of the gamma distribution of customers' scale."
                                    ),
                                    "gamma": prop(
                                        POSITIVE, "Scale of the gamma distribution of customers' scale."
                                    ),
                                },
                                ["p", "q", "gamma"],
                            ),
                            "Parameters instead of a fit to the history.",
                        ),
                    },
                    ["model"],
                ),
                "Fitted to the history up to `as_of` unless `params` are given.",
            ),
            "program_running": prop(
                {"type": "boolean"},
                "true: the program ran over the history (replayed to `as_of`: members start with "
                "their balances and tiers); false: the program launches on this customer base.",
            ),
            "response": prop(response, "The existing customers' behavioural response."),
            "parameter_uncertainty": prop(
                {"type": "boolean"},
                "true (the default): each replication draws the fitted models' parameters from "
                "their sampling distribution, so the bands carry what the data leave uncertain; "
                "false: every replication uses the estimates.",
            ),
        },
        ["transactions", "as_of", "purchase", "spend"],
    )
    guardrail = obj(
        {
            "id": prop(ref("id"), "The guardrail's identifier."),
            "metric": prop(
                {"type": "string", "minLength": 1},
                "A monthly or summary metric, e.g. liability, roi, breakage.",
            ),
            "stat": prop(
                {
                    "type": "string",
                    "pattern": "^(mean|p[0-9]{1,2})$",
                    "x-hint": "mean, or a percentile such as p95",
                },
                "Statistic across replications: mean or pNN.",
            ),
            "month": prop(COUNT, "Month of the horizon (1 = first); omit for the whole horizon."),
            "max": prop(NUMBER, "Upper bound (inclusive)."),
            "min": prop(NUMBER, "Lower bound (inclusive)."),
        },
        ["id", "metric", "stat"],
        anyOf=[{"required": ["max"]}, {"required": ["min"]}],
    )
    sensitivity_range = obj(
        {
            "path": prop(
                {
                    "type": "string",
                    "minLength": 1,
                    "x-hint": "e.g. population.segments[0].response.frequency_lift",
                },
                "The assumption, addressed like `loyalsim sweep --set` paths.",
            ),
            "low": prop(NUMBER, "Low value for the one-at-a-time run."),
            "high": prop(NUMBER, "High value for the one-at-a-time run."),
        },
        ["path", "low", "high"],
    )
    top = obj(
        {
            "$schema": prop({"type": "string"}, "The JSON Schema this file follows (for editors)."),
            "apiVersion": prop({"const": "loyalsim/v1"}, "Language version: loyalsim/v1."),
            "kind": prop({"const": "Scenario"}, "Always Scenario for a scenario file."),
            "metadata": prop(
                obj(
                    {
                        "name": prop(ref("id"), "Machine name."),
                        "title": prop({"type": "string"}, "Human title."),
                        "description": prop({"type": "string"}, "What the scenario represents."),
                    },
                    ["name"],
                ),
                "Name and description.",
            ),
            "programs": prop(
                array({"type": "string", "minLength": 1}, minItems=1), "Program files, relative to this file."
            ),
            "start": prop(
                ref("date"),
                "First simulated day (with a history: the day after `as_of`, which it defaults to).",
            ),
            "horizon": prop(ref("duration"), "How long to simulate."),
            "seed": prop(NONNEG_INT, "Random seed; the same seed gives the same results."),
            "replications": prop({**COUNT, "maximum": 100_000}, "Monte Carlo replications."),
            "population": prop(
                obj(
                    {
                        "initial": prop({**NONNEG_INT, "maximum": 1_000_000_000}, "Customers at the start."),
                        "arrivals_per_month": prop(
                            {**NONNEG, "maximum": 100_000_000}, "New customers per month."
                        ),
                        "segments": prop(array(segment, minItems=1), "Customer segments."),
                        "history": prop(
                            history,
                            "The customers a company has, from its transactions: each simulated from "
                            "their own history (docs/forecast.md).",
                        ),
                    },
                    allOf=[
                        {
                            "if": {"not": {"required": ["history"]}},
                            "then": {"required": ["initial", "segments"]},
                        }
                    ],
                ),
                "Who the customers are.",
            ),
            "economics": prop(
                obj(
                    {
                        "gross_margin": prop(
                            {"type": "number", "minimum": 0, "maximum": 1}, "Gross margin on sales."
                        ),
                        "reward_cost_ratio": prop(
                            {"type": "number", "minimum": 0, "maximum": 1},
                            "Cost to the company per unit of reward face value.",
                        ),
                        "fixed_costs_per_month": prop(ref("money"), "Fixed program costs per month."),
                        "discount_rate": prop(
                            {"type": "number", "minimum": 0, "maximum": 1}, "Annual discount rate for NPV."
                        ),
                    },
                    ["gross_margin"],
                ),
                "What the company earns and pays.",
            ),
            "guardrails": prop(array(guardrail), "Assertions on the forecast for `loyalsim check`."),
            "sensitivity": prop(
                obj(
                    {
                        "ranges": prop(
                            array(sensitivity_range),
                            "Low/high values replacing the documented default ranges.",
                        ),
                    }
                ),
                "Ranges for `loyalsim sensitivity`.",
            ),
        },
        ["apiVersion", "kind", "metadata", "programs", "horizon", "population", "economics"],
        allOf=[
            {
                "if": {"not": {"properties": {"population": {"required": ["history"]}}}},
                "then": {"required": ["start"]},
            }
        ],
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE}/scenario.schema.json",
        "title": "loyalsim scenario",
        "description": "A simulation scenario for loyalsim: customers, economics, horizon and guardrails.",
        **top,
        "$defs": d,
    }


def with_editor_messages(node: Any) -> Any:
    """Give every node with an ``x-hint`` (the CLI's own hint) the messages editors show instead of a
    raw regular expression: ``patternErrorMessage`` (VS Code's JSON and YAML servers) on patterns,
    ``errorMessage`` (the YAML language server) on every hinted value."""
    if isinstance(node, list):
        return [with_editor_messages(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: with_editor_messages(value) for key, value in node.items()}
    hint = out.get("x-hint")
    if isinstance(hint, str):
        out.setdefault("errorMessage", f"expected {hint}")
        if "pattern" in out:
            out.setdefault("patternErrorMessage", f"expected {hint}")
    return out


def render(schema: Schema) -> str:
    return json.dumps(with_editor_messages(schema), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "src/loyalsim/schemas"
    (out / "program.schema.json").write_text(render(program_schema()), encoding="utf-8")
    (out / "scenario.schema.json").write_text(render(scenario_schema()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
