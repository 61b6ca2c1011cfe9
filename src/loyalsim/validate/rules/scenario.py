"""Semantic rules for scenarios (LS3xx)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loyalsim.durations import parse_duration
from loyalsim.validate.rules import Context, Finding, rule
from loyalsim.validate.schema_check import did_you_mean

S = "Scenario"

# Metrics a guardrail may name: monthly results and headline figures of a forecast.
GUARDRAIL_METRICS = frozenset(
    {
        "members",
        "active_customers",
        "purchases",
        "revenue",
        "points_issued",
        "points_redeemed",
        "points_expired",
        "points_outstanding",
        "liability",
        "deferred_revenue",
        "breakage",
        "program_cost",
        "reward_cost",
        "fee_revenue",
        "cashback_payable",
        "donations",
        "referrals",
        "incremental_revenue",
        "incremental_margin",
        "incremental_gross_margin",
        "net_benefit",
        "dividend_payable",
        "deferred_fee_revenue",
        "subscribers",
        "roi",
        "retention_lift",
        "npv",
    }
)


@rule(S, "LS301")
def shares_sum_to_one(ctx: Context) -> Iterator[Finding]:
    """Segment shares split the population, so they must add up to 1."""
    segments = _segments(ctx)
    total = sum(s["share"] for s in segments)
    if segments and abs(total - 1) > 1e-9:
        yield Finding(
            ("population", "segments"),
            f"segment shares add up to {total:g}, not 1",
            "adjust the shares so that they sum to 1",
            key=True,
        )


@rule(S, "LS307")
def unique_segments(ctx: Context) -> Iterator[Finding]:
    """Segments are referred to by id in results, so ids must be unique."""
    seen: set[str] = set()
    for i, segment in enumerate(_segments(ctx)):
        if segment["id"] in seen:
            yield Finding(
                ("population", "segments", i, "id"), f"the segment id '{segment['id']}' is used twice"
            )
        seen.add(segment["id"])


@rule(S, "LS302")
def programs_exist(ctx: Context) -> Iterator[Finding]:
    """Program files (the programs, and each value response's reference) are found relative to
    the scenario file."""
    if ctx.doc.file in ("-", "<stdin>"):
        return
    base = Path(ctx.doc.file).parent
    named: list[tuple[tuple[str | int, ...], Any]] = [
        (("programs", i), n) for i, n in enumerate(ctx.data["programs"])
    ]
    population = ctx.data.get("population", {})
    places: list[tuple[tuple[str | int, ...], Any]] = [
        (("population", "segments", i), segment) for i, segment in enumerate(population.get("segments", []))
    ]
    if isinstance(population.get("history"), dict):
        places.append((("population", "history"), population["history"]))
    for path, holder in places:
        stated = holder.get("response", {}).get("value_response") if isinstance(holder, dict) else None
        if isinstance(stated, dict) and isinstance(stated.get("reference"), str):
            named.append(((*path, "response", "value_response", "reference"), stated["reference"]))
    for where, name in named:
        if not (base / name).is_file():
            looked = os.path.normpath(base / name)
            yield Finding(
                where,
                f"the program file '{name}' does not exist (looked in {looked})",
                "program paths are relative to the scenario file",
            )


@rule(S, "LS303")
def guardrail_bounds(ctx: Context) -> Iterator[Finding]:
    """A guardrail whose min exceeds its max can never pass."""
    for i, guard in enumerate(ctx.data.get("guardrails", [])):
        if "min" in guard and "max" in guard and guard["min"] > guard["max"]:
            yield Finding(
                ("guardrails", i, "min"),
                f"guardrail '{guard['id']}' needs at least {guard['min']} and "
                f"at most {guard['max']}: it can never pass",
            )


@rule(S, "LS304")
def guardrail_metrics(ctx: Context) -> Iterator[Finding]:
    """Guardrails must name a metric the forecast produces."""
    for i, guard in enumerate(ctx.data.get("guardrails", [])):
        metric = guard["metric"]
        if metric not in GUARDRAIL_METRICS:
            guess = did_you_mean(metric, GUARDRAIL_METRICS)
            yield Finding(
                ("guardrails", i, "metric"),
                f"unknown metric '{metric}'" + (f"; did you mean '{guess}'?" if guess else ""),
                None if guess else "metrics: " + ", ".join(sorted(GUARDRAIL_METRICS)),
            )


@rule(S, "LS305")
def guardrail_month(ctx: Context) -> Iterator[Finding]:
    """A guardrail on a month after the horizon has nothing to measure."""
    horizon = parse_duration(ctx.data["horizon"])
    months = horizon.months + horizon.days // 30
    for i, guard in enumerate(ctx.data.get("guardrails", [])):
        if guard.get("month", 0) > months:
            yield Finding(
                ("guardrails", i, "month"), f"month {guard['month']} is beyond the {months}-month horizon"
            )


MAX_HORIZON_YEARS = 50


@rule(S, "LS308")
def horizon_length(ctx: Context) -> Iterator[Finding]:
    """A horizon beyond 50 years is a typo ('500 months' for '50 months'): refused before it runs for hours."""
    horizon = parse_duration(ctx.data["horizon"])
    if horizon.approx_days > MAX_HORIZON_YEARS * 365.2425:
        yield Finding(
            ("horizon",),
            f"a horizon of {horizon} is longer than the {MAX_HORIZON_YEARS} years loyalsim simulates",
            "forecast a shorter horizon, such as '36 months' or '10 years'",
        )
        return
    # Calendars end somewhere: the same last day as the transaction reader's (1900-2199).
    start = ctx.data.get("start")
    if isinstance(start, str):
        try:
            first = dt.date.fromisoformat(start)
        except ValueError:
            return  # a bad date is the date rule's to report
        months = first.year * 12 + first.month - 1 + horizon.months
        end_year = months // 12 + int((horizon.days + first.day) / 365.2425)
        if first.year < 1900 or end_year > 2199:
            yield Finding(
                ("start",),
                f"a forecast from {start} over {horizon} runs outside the years 1900 to "
                "2199 that loyalsim's calendar covers",
                "start the forecast at a date in that range",
            )


@rule(S, "LS306")
def basket_shares(ctx: Context) -> Iterator[Finding]:
    """Basket shares describe a mix, so each should add up to 1."""
    for i, segment in enumerate(_segments(ctx)):
        for part in ("category", "channel"):
            mix = segment.get("basket", {}).get(part)
            if mix and abs(sum(mix.values()) - 1) > 1e-9:
                yield Finding(
                    ("population", "segments", i, "basket", part),
                    f"{part} shares add up to {sum(mix.values()):g}, not 1",
                    key=True,
                )


def _segments(ctx: Context) -> list[dict[str, Any]]:
    """The scenario's segments (none when a history alone gives the customers)."""
    segments: list[dict[str, Any]] = ctx.data["population"].get("segments", [])
    return segments


def _responding(ctx: Context) -> list[dict[str, Any]]:
    """Every response the scenario states: each segment's and the history's."""
    history = ctx.data["population"].get("history")
    return [s.get("response", {}) for s in _segments(ctx)] + (
        [history.get("response", {})] if history is not None else []
    )


def _responses(ctx: Context, name: str) -> list[float]:
    """Each stated response's value of ``name`` (a distribution's mode or mean; 0 if not a number)."""
    values = []
    for response in _responding(ctx):
        value = response.get(name, 0.0)
        if isinstance(value, dict):
            value = value.get("mode", value.get("mean", 0.0))
        values.append(float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0)
    return values


@rule(S, "LS314")
def distributions_in_order(ctx: Context) -> Iterator[Finding]:
    """A triangular distribution ``{low, mode, high}`` needs low <= mode <= high with low < high:
    otherwise it describes no distribution (a fixed value is written as a number)."""
    population = ctx.data["population"]
    places: list[tuple[tuple[str | int, ...], Any]] = [
        (("population", "segments", i, "response"), s.get("response", {}))
        for i, s in enumerate(_segments(ctx))
    ]
    if population.get("history") is not None:
        places.append((("population", "history", "response"), population["history"].get("response", {})))
    for path, response in places:
        for name, value in response.items():
            if not (isinstance(value, dict) and {"low", "mode", "high"} <= set(value)):
                continue
            low, mode, high = (value[k] for k in ("low", "mode", "high"))
            if not low <= mode <= high or low == high:
                yield Finding(
                    (*path, name),
                    f"{name}: low {low:g}, mode {mode:g}, high {high:g} are not in order (low <= mode <= high, "
                    "low < high)",
                    "reorder the three values; write a fixed value as a plain number",
                    key=True,
                )


@rule(S, "LS309")
def mechanics_have_a_response(ctx: Context) -> Iterator[Finding]:
    """A program's mechanic that needs a behavioural response the scenario does not give does
    nothing in the forecast: referrals with no referral_rate, community actions with no
    action_rates, reminders with no reminder_response, point donations with no
    donation_propensity. Said, so that two designs that only differ there are not read as equal."""
    if ctx.doc.file in ("-", "<stdin>"):
        return
    from loyalsim.load import load_file

    base = Path(ctx.doc.file).parent
    for i, name in enumerate(ctx.data["programs"]):
        path = base / name
        if not path.is_file():
            continue  # LS302 says so
        loaded = load_file(path)
        program = loaded.document.data if loaded.document is not None else None
        if not isinstance(program, dict):
            continue
        shown = os.path.normpath(path)
        missing = []
        if isinstance(program.get("referral"), dict) and not any(
            r > 0 for r in _responses(ctx, "referral_rate")
        ):
            missing.append(("referral rewards", "referral_rate"))
        actions = (
            program.get("community", {}).get("actions", [])
            if isinstance(program.get("community"), dict)
            else []
        )
        ids = {a.get("id") for a in actions if isinstance(a, dict)}
        rates = [response.get("action_rates", {}) for response in _responding(ctx)]
        if ids and not any(
            rate > 0 for r in rates if isinstance(r, dict) for k, rate in r.items() if k in ids
        ):
            missing.append(("community actions", "action_rates"))
        if program.get("reminders") and not any(r > 0 for r in _responses(ctx, "reminder_response")):
            missing.append(("reminders", "reminder_response"))
        value = program.get("value")
        value = value if isinstance(value, dict) else {}
        donations = value.get("donations")
        donations = donations if isinstance(donations, dict) else {}
        if donations.get("points_to_donation") and not any(
            r > 0 for r in _responses(ctx, "donation_propensity")
        ):
            missing.append(("points donations", "donation_propensity"))
        for what, response in missing:
            yield Finding(
                ("programs", i),
                f"{shown} has {what}, but no segment sets {response} above 0: "
                f"they do nothing in this forecast",
                f"set population.segments[...].response.{response} (docs/behaviour.md gives sourced values), "
                "or acknowledge it with `# loyalsim: ignore[LS309]`",
            )


@rule(S, "LS310")
def history_start(ctx: Context) -> Iterator[Finding]:
    """With a history, the forecast starts the day after ``as_of``: a gap would lose the days
    between, an overlap would count them twice."""
    history = ctx.data["population"].get("history")
    start = ctx.data.get("start")
    if history is None or not isinstance(start, str):
        return
    try:
        expected = dt.date.fromisoformat(history["as_of"]) + dt.timedelta(days=1)
        given = dt.date.fromisoformat(start)
    except ValueError:
        return  # a bad date is the date rule's to report
    if given != expected:
        yield Finding(
            ("start",),
            f"the forecast starts on {start}, but the history ends on {history['as_of']}: it must "
            f"start the day after, {expected.isoformat()}",
            f"write start: {expected.isoformat()}, or leave start out (it defaults to the day after as_of)",
        )


@rule(S, "LS311")
def customers_need_segments(ctx: Context) -> Iterator[Finding]:
    """New customers (``initial`` or arrivals) are drawn from segments: with a history alone
    there is nothing to draw them from."""
    population = ctx.data["population"]
    if _segments(ctx):
        return
    for name in ("initial", "arrivals_per_month"):
        if population.get(name, 0) > 0:
            yield Finding(
                ("population", name),
                f"population.{name} is {population[name]:g}, but there are no segments to draw "
                "new customers from",
                "add population.segments (`loyalsim fit purchases --out` writes one), or set it to 0",
            )


@rule(S, "LS312")
def history_file_exists(ctx: Context) -> Iterator[Finding]:
    """The history's transaction file is found relative to the scenario file."""
    history = ctx.data["population"].get("history")
    if history is None or ctx.doc.file in ("-", "<stdin>"):
        return
    path = Path(ctx.doc.file).parent / history["transactions"]
    if not path.is_file():
        yield Finding(
            ("population", "history", "transactions"),
            f"the transaction file '{history['transactions']}' does not exist (looked in "
            f"{os.path.normpath(path)})",
            "the path is relative to the scenario file",
        )
