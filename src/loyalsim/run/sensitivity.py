"""One-at-a-time sensitivity: which assumption moves liability, cost and ROI most.

Where: the run stage, behind ``loyalsim sensitivity``. The assumptions are every
behavioural response the simulator uses, per segment, and every economic parameter. Each
is set to its low and then its high value with everything else at the scenario's values;
the swing of a metric is its value at high minus its value at low. Ranges come from the
scenario's ``sensitivity.ranges`` when given, else from the documented defaults below
(docs/check.md). All runs share the scenario's seed (common random numbers), so a swing is
the assumption's effect, not noise; runs that differ only in economics share their
simulations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loyalsim.compile.policy import Policy
from loyalsim.population.scenario import RESPONSE_DEFAULTS

Bounds = tuple[float, float]


def _relative(
    low: float, high: float, floor: float = 0.0, ceiling: float | None = None, if_zero: Bounds | None = None
) -> Callable[[float], Bounds]:
    """A range of base × ``low`` .. base × ``high`` within [floor, ceiling]; ``if_zero`` when the base is 0."""

    def make(base: float) -> Bounds:
        if base == 0 and if_zero is not None:
            return if_zero
        a, b = base * low, base * high
        if ceiling is not None:
            a, b = min(a, ceiling), min(b, ceiling)
        return max(a, floor), max(b, floor)

    return make


# Documented default ranges (docs/check.md): wide enough to matter, inside each parameter's domain.
DEFAULT_RANGES: dict[str, Callable[[float], Bounds]] = {
    "enrolment_rate": _relative(0.5, 1.5, ceiling=1.0),
    "frequency_lift": _relative(0.0, 2.0, if_zero=(0.0, 0.10)),
    "enrolment_delay": _relative(0.5, 1.5, if_zero=(0.0, 30.0)),
    "enrolment_selection": _relative(0.0, 2.0, if_zero=(0.0, 0.5)),
    "lift_duration": _relative(0.5, 1.5),
    "churn_reduction": _relative(0.0, 2.0, ceiling=1.0, if_zero=(0.0, 0.20)),
    "redemption_propensity": _relative(0.5, 1.5, ceiling=1.0),
    "goal_gradient": _relative(0.0, 2.0, if_zero=(0.0, 0.20)),
    "post_reward_lift": _relative(0.0, 2.0, if_zero=(0.0, 0.20)),
    "membership_take_up": _relative(0.5, 1.5, ceiling=1.0),
    "trial_conversion": _relative(0.5, 1.5, ceiling=1.0),
    "referral_rate": _relative(0.0, 2.0, if_zero=(0.0, 1.0)),
    "referee_conversion": _relative(0.5, 1.5, ceiling=1.0),
    "cashback_lift": _relative(0.0, 2.0, if_zero=(0.0, 0.10)),
    "community_retention": _relative(0.0, 2.0, ceiling=1.0, if_zero=(0.0, 0.20)),
    "reminder_response": _relative(0.0, 2.0, ceiling=1.0, if_zero=(0.0, 0.20)),
    "value_affinity": _relative(0.0, 2.0, ceiling=1.0, if_zero=(0.0, 0.10)),
    "donation_propensity": _relative(0.0, 2.0, ceiling=1.0, if_zero=(0.0, 0.10)),
    "gross_margin": _relative(0.75, 1.25, ceiling=1.0),
    "reward_cost_ratio": _relative(0.75, 1.25, ceiling=1.0, if_zero=(0.0, 0.5)),
    "fixed_costs_per_month": _relative(0.75, 1.25),
    "discount_rate": _relative(0.5, 1.5, ceiling=1.0, if_zero=(0.0, 0.10)),
}
ECONOMICS_DEFAULTS = {
    "gross_margin": 0.0,
    "reward_cost_ratio": 1.0,
    "fixed_costs_per_month": 0.0,
    "discount_rate": 0.0,
}


@dataclass(frozen=True)
class Assumption:
    path: str  # as a sweep path: population.segments[0].response.frequency_lift
    base: float
    low: float
    high: float
    source: str  # "scenario" (sensitivity.ranges), "distribution" (its P5 and P95) or "default"


def relevant(policy: Policy) -> frozenset[str]:
    """The behavioural responses that can change this program's results."""
    names = {"enrolment_rate", "frequency_lift", "churn_reduction"}
    if policy.rewards is not None:
        names |= {"redemption_propensity", "goal_gradient", "post_reward_lift"}
    if policy.cashback is not None:
        names.add("cashback_lift")
    if policy.community:
        names.add("community_retention")
    if policy.reminders:
        names.add("reminder_response")
    if policy.value is not None and (policy.value.dividend is not None or policy.value.donations is not None):
        names.add("value_affinity")
    if (
        policy.value is not None
        and policy.value.donations is not None
        and policy.value.donations.points_per_step
    ):
        names.add("donation_propensity")
    if policy.referral is not None:
        names |= {"referral_rate", "referee_conversion"}
    if policy.membership is not None:
        names |= {"membership_take_up"} | (
            {"trial_conversion"} if policy.membership.trial is not None else set()
        )
    return frozenset(names)


def assumptions(
    data: dict[str, Any], responses: frozenset[str] = frozenset(RESPONSE_DEFAULTS)
) -> list[Assumption]:
    """Every assumption of a scenario document (the ``responses`` that matter) with its base value and range."""
    given = {
        r["path"]: (float(r["low"]), float(r["high"])) for r in data.get("sensitivity", {}).get("ranges", [])
    }
    from loyalsim.population.uncertain import Uncertain, parse

    out = []
    for prefix, response in _responses(data):
        for name in (n for n in RESPONSE_DEFAULTS if n in responses):
            path = f"{prefix}.response.{name}"
            stated = parse(name, response.get(name, RESPONSE_DEFAULTS[name]))
            if isinstance(stated, Uncertain) and path not in given:
                # The scenario states the assumption's uncertainty: its P5 and P95 are the range.
                low, high = stated.quantile(0.05), stated.quantile(0.95)
                out.append(Assumption(path, stated.central, low, high, "distribution"))
            else:
                base = stated.central if isinstance(stated, Uncertain) else stated
                out.append(_assumption(path, base, name, given))
    for name, default in ECONOMICS_DEFAULTS.items():
        out.append(_assumption(f"economics.{name}", float(data["economics"].get(name, default)), name, given))
    return [a for a in out if a.low != a.high]


def _responses(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each stated response with its path: the segments', then the history's."""
    population = data["population"]
    out = [
        (f"population.segments[{index}]", segment.get("response", {}))
        for index, segment in enumerate(population.get("segments", []))
    ]
    if "history" in population:
        out.append(("population.history", population["history"].get("response", {})))
    return out


def _assumption(path: str, base: float, name: str, given: dict[str, Bounds]) -> Assumption:
    if path in given:
        low, high = given[path]
        return Assumption(path, base, low, high, "scenario")
    low, high = DEFAULT_RANGES[name](base)
    return Assumption(path, base, low, high, "default")


def unknown_ranges(data: dict[str, Any]) -> list[tuple[int, str]]:
    """Positions and paths of ``sensitivity.ranges`` entries that name no assumption."""
    known = (
        {a.path for a in assumptions({**data, "sensitivity": {}})}
        | {f"{prefix}.response.{name}" for prefix, _ in _responses(data) for name in RESPONSE_DEFAULTS}
        | {f"economics.{name}" for name in ECONOMICS_DEFAULTS}
    )
    return [
        (i, r["path"])
        for i, r in enumerate(data.get("sensitivity", {}).get("ranges", []))
        if r["path"] not in known
    ]


METRICS = {
    # name: (summary.json block, key, label)
    "liability_at_end": ("end", "liability_at_cost", "Liability at cost, end"),
    "program_cost": ("economics", "program_cost", "Program cost"),
    "roi": ("economics", "roi", "ROI"),
    "npv": ("economics", "npv", "NPV of net benefit"),
}


def metric_values(headline: dict[str, Any]) -> dict[str, float | None]:
    """The mean of each sensitivity metric in a simulation's summary."""
    out: dict[str, float | None] = {}
    for name, (block, key, _) in METRICS.items():
        source = headline["finance"].get("end", {}) if block == "end" else headline.get("economics", {})
        out[name] = source[key]["mean"] if key in source else None
    return out
