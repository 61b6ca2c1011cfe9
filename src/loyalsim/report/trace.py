"""``loyalsim trace``: one synthetic customer's story, in plain words."""

from __future__ import annotations

from typing import Any

from loyalsim.compile.calendar import month_label, to_date
from loyalsim.compile.policy import Policy
from loyalsim.report.explain import Words


def render(story: list[dict[str, Any]], policy: Policy, start: int, customer: int) -> str:
    w = Words(policy)
    lines = []
    quiet: list[dict[str, Any]] = []  # consecutive statements with nothing happening
    existing = False  # an existing customer (a history): their purchases are counted from the forecast

    def flush() -> None:
        if quiet:
            first, last = month_label(quiet[0]["month"]), month_label(quiet[-1]["month"])
            span = first if first == last else f"{first} to {last}"
            lines.append(f"{span}: no change (balance {w.points(quiet[-1]['balance'])})")
            quiet.clear()

    previous: dict[str, Any] | None = None
    for event in story:
        if event["event"] == "statement":
            unchanged = (
                previous is not None
                and not (event["earned"] or event["redeemed"] or event["expired"])
                and event["tier"] == previous["tier"]
            )
            previous = event
            if unchanged:
                quiet.append(event)
                continue
        flush()
        date = to_date(start + event["day"])
        kind = event["event"]
        if kind == "profile" and event.get("existing"):
            existing = True
            lines.append(
                f"Customer {customer} is an existing customer ({event['history_repeat_purchases']} repeat "
                f"purchase(s) in the history to {date}"
                + ("" if event["active"] else "; drawn as no longer active: buys nothing more")
                + "); "
                + ("a program member" if event["member"] else "not a program member")
                + "."
            )
        if kind == "profile" and not event.get("existing"):
            lines.append(
                f"Customer {customer} ({event['segment']} segment) first buys on {date}; "
                + ("a program member" if event["member"] else "not a program member")
                + "."
            )
        if kind == "profile" and event.get("active", True):
            lines.append(
                f"  buys {event['rate_per_week']:.3f} times a week on average"
                + (
                    f" ({event['program_rate_per_week']:.3f} as a member)"
                    if event["program_rate_per_week"] != event["rate_per_week"]
                    else ""
                )
                + (
                    f"; drops out after {'forecast' if existing else 'repeat'} purchase "
                    f"{event['repeat_purchases_allowed']}"
                    if event["repeat_purchases_allowed"]
                    else ""
                )
                + "."
            )
        elif kind == "purchase":
            label = (
                f"forecast purchase {event['number']}"
                if existing
                else "first purchase"
                if event["number"] == 0
                else f"purchase {event['number'] + 1}"
            )
            lines.append(f"{date}  [{event['arm']}] {label}: {w.money(event['amount'])}")
        elif kind == "points":
            tier = f" ({policy.level_name(event['tier'])})" if policy.tiers else ""
            lines.append(f"{date}  [program] earns {w.points(event['earned'])}{tier}")
        elif kind == "member event":
            lines.append(
                f"{date}  [program] earns {w.points(event['points'])} for a dated member event "
                "(sign-up, birthday or anniversary)"
            )
        elif kind == "donation":
            lines.append(
                f"{date}  [program] donates {w.points(event['points'])} as {w.money(event['amount'])}"
            )
        elif kind == "dropout":
            lines.append(f"{date}  [{event['arm']}] stops buying after repeat purchase {event['after']}")
        elif kind == "statement":
            tier = f", tier {policy.level_name(event['tier'])}" if policy.tiers else ""
            lines.append(
                f"{month_label(event['month'])} statement: earned {w.points(event['earned'])}, redeemed "
                f"{w.points(event['redeemed'])}, expired {w.points(event['expired'])}, balance "
                f"{w.points(event['balance'])}{tier}"
            )
    flush()
    return "\n".join(lines) + "\n"
