"""Scenarios: a validated scenario document → a typed :class:`Scenario` with its programs.

Where: the population stage. The simulator reads Scenario objects; everything in them
is already checked (schema and rules) and converted (dates to day numbers, durations to
days, programs compiled).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from loyalsim.compile import Policy, load_policy
from loyalsim.compile.calendar import add_duration, day_number
from loyalsim.durations import parse_duration
from loyalsim.errors import InvalidDocumentError, load_error
from loyalsim.issues import Severity
from loyalsim.load import SourceMap, load_file
from loyalsim.population.history import History
from loyalsim.population.uncertain import Uncertain, parse

# Documented defaults of the behavioural response (docs/behaviour.md gives their basis).
RESPONSE_DEFAULTS: dict[str, float] = {
    "enrolment_rate": 0.5,
    "frequency_lift": 0.0,
    "enrolment_delay": 0.0,
    "enrolment_selection": 0.0,
    "lift_duration": 0.0,
    "churn_reduction": 0.0,
    "redemption_propensity": 1.0,
    "goal_gradient": 0.0,
    "post_reward_lift": 0.0,
    "membership_take_up": 1.0,
    "trial_conversion": 0.5,
    "referral_rate": 0.0,
    "referee_conversion": 0.25,
    "cashback_lift": 0.0,
    "community_retention": 0.0,
    "reminder_response": 0.0,
    "value_affinity": 0.0,
    "donation_propensity": 0.0,
}
# sBG renewal (alpha, beta): Fader & Hardie (2007)'s "regular" cohort, reproduced by `loyalsim fit retention`.
RENEWAL_DEFAULT = (0.668, 3.806)


@dataclass(frozen=True)
class Segment:
    id: str
    share: float
    purchase_model: str  # bgnbd, pareto_nbd
    purchase_params: tuple[float, float, float, float]
    days_per_unit: float  # 7 for parameters in weeks, 1 for days
    spend_model: str  # gamma_gamma, lognormal
    spend_params: tuple[float, ...]
    response: dict[str, float] = field(default_factory=dict)
    renewal: tuple[float, float] = RENEWAL_DEFAULT
    basket_category: tuple[tuple[str, float], ...] = ()  # (category, share of purchases)
    basket_channel: tuple[tuple[str, float], ...] = ()
    action_rates: tuple[tuple[str, float], ...] = ()  # (community action id, actions per member per month)
    # Responses stated as distributions ((name, distribution)); ``response`` holds their
    # central values until a replication draws them (:meth:`drawn`).
    uncertain: tuple[tuple[str, Uncertain], ...] = ()
    # The frequency lift as measured on a reference program, scaled under others by the value
    # they give back (reference program, half value): simulate.program_value.
    value_response: tuple[Policy, float] | None = None

    def responds(self, name: str) -> float:
        return self.response.get(name, RESPONSE_DEFAULTS.get(name, 0.0))

    def drawn(self, rng: np.random.Generator) -> Segment:
        """This segment with each uncertain response drawn once (one uniform each, in the order
        stated): what one replication uses."""
        if not self.uncertain:
            return self
        values = {name: u.quantile(float(rng.random())) for name, u in self.uncertain}
        return replace(self, response=self.response | values, uncertain=())


def _stated(response: dict[str, Any]) -> tuple[dict[str, float], tuple[tuple[str, Uncertain], ...]]:
    """A stated response's numbers (a distribution's central value) and its distributions."""
    values: dict[str, float] = {}
    uncertain: list[tuple[str, Uncertain]] = []
    for name, value in response.items():
        if name in ("renewal", "action_rates", "value_response"):
            continue
        parsed = parse(name, value)
        if isinstance(parsed, Uncertain):
            uncertain.append((name, parsed))
            values[name] = parsed.central
        else:
            values[name] = parsed
    return values, tuple(uncertain)


@dataclass(frozen=True)
class Scenario:
    name: str
    file: str
    programs: tuple[Policy, ...]
    start: int  # day number
    days: int  # horizon in days
    seed: int
    replications: int
    initial: int
    arrivals_per_month: float
    segments: tuple[Segment, ...]
    economics: dict[str, float]
    content_hash: str
    simulation_hash: str = ""  # of what the simulated months depend on (not economics, guardrails, metadata)
    guardrails: tuple[dict[str, Any], ...] = ()
    source: SourceMap | None = None  # where each value came from in the file (for located messages)
    # The customers a company has (population.history): simulated first, with the last segment
    # (HISTORY_SEGMENT, share 0) holding their models and response.
    history: History | None = None

    @property
    def starting(self) -> int:
        """Customers at the start: the history's, then ``initial`` new ones."""
        return self.initial + (self.history.size if self.history is not None else 0)

    def seeds(self, index: int) -> list[np.random.SeedSequence]:
        """Replication ``index``'s independent streams: its customers, its key, its referees-to-be
        and its uncertain responses (children of the scenario's seed, so adding a stream changes
        none of the others)."""
        return list(np.random.SeedSequence(self.seed).spawn(self.replications)[index].spawn(4))

    def drawn(self, index: int) -> Scenario:
        """The scenario as replication ``index`` sees it: each response stated as a distribution
        drawn once, segment by segment in order (itself when none is)."""
        if not any(segment.uncertain for segment in self.segments):
            return self
        rng = np.random.default_rng(self.seeds(index)[3])
        return replace(self, segments=tuple(segment.drawn(rng) for segment in self.segments))

    def response_paths(self) -> list[str]:
        """Each segment's path in the scenario file (a history's segment is population.history)."""
        return [
            "population.history" if s.id == HISTORY_SEGMENT else f"population.segments[{i}]"
            for i, s in enumerate(self.segments)
        ]


HISTORY_SEGMENT = "(history)"  # not a valid segment id: it cannot clash with one


def _history_segment(history: History, base: Path, first: Policy | None) -> Segment:
    """The segment holding a history's models and response (never drawn for new customers)."""
    response, uncertain = _stated(history.response)
    return Segment(
        id=HISTORY_SEGMENT,
        share=0.0,
        purchase_model=history.purchase_model,
        purchase_params=history.purchase_params,
        days_per_unit=history.days_per_unit,
        spend_model="gamma_gamma",
        spend_params=history.spend_params,
        response=response,
        uncertain=uncertain,
        value_response=_value_response(history.response, base, first),
    )


def _states_value_response(population: dict[str, Any]) -> bool:
    """Whether a segment's (or the history's) response has a value response without a reference."""
    holders = list(population.get("segments", [])) + (
        [population["history"]] if "history" in population else []
    )
    return any(
        "value_response" in h.get("response", {}) and "reference" not in h["response"]["value_response"]
        for h in holders
    )


def _value_references(segments: tuple[Segment, ...]) -> dict[str, list[str]]:
    """The reference programs' content (their rules, not only their paths), for the hash of
    what the simulated months depend on; nothing when no segment has a value response."""
    hashes = [s.value_response[0].content_hash for s in segments if s.value_response is not None]
    return {"value_references": hashes} if hashes else {}


def _value_response(
    response: dict[str, Any], base: Path, first: Policy | None
) -> tuple[Policy, float] | None:
    """A stated value response: its reference program (compiled, the path relative to the
    scenario; by default the scenario's first program, ``first``) and half value."""
    stated = response.get("value_response")
    if stated is None:
        return None
    if "reference" in stated:
        reference = load_policy(Path(os.path.normpath(base / stated["reference"])))
    elif first is not None:
        reference = first
    else:
        return None  # (no program to refer to: the stated lift stands)
    return reference, float(stated["half_value"])


def _segment(data: dict[str, Any], base: Path, first: Policy | None) -> Segment:
    purchase, spend = data["purchase"], data["spend"]
    params = purchase["params"]
    keys = ("r", "alpha", "a", "b") if purchase["model"] == "bgnbd" else ("r", "alpha", "s", "beta")
    spend_keys = ("p", "q", "gamma") if spend["model"] == "gamma_gamma" else ("mean", "sigma")
    response, uncertain = _stated(data.get("response", {}))
    return Segment(
        id=data["id"],
        share=float(data["share"]),
        purchase_model=purchase["model"],
        purchase_params=tuple(float(params[k]) for k in keys),  # type: ignore[arg-type]
        days_per_unit=7.0 if purchase["time_unit"] == "week" else 1.0,
        spend_model=spend["model"],
        spend_params=tuple(float(spend["params"][k]) for k in spend_keys),
        response=response,
        uncertain=uncertain,
        renewal=(float(data["response"]["renewal"]["alpha"]), float(data["response"]["renewal"]["beta"]))
        if "renewal" in data.get("response", {})
        else RENEWAL_DEFAULT,
        basket_category=tuple(
            (str(k), float(v)) for k, v in data.get("basket", {}).get("category", {}).items()
        ),
        basket_channel=tuple(
            (str(k), float(v)) for k, v in data.get("basket", {}).get("channel", {}).items()
        ),
        action_rates=tuple(
            (str(k), float(v)) for k, v in data.get("response", {}).get("action_rates", {}).items()
        ),
        value_response=_value_response(data.get("response", {}), base, first),
    )


def load_scenario(path: Path | str, *, seed: int | None = None, replications: int | None = None) -> Scenario:
    """Load, validate and compile a scenario file and the programs it names."""
    name = str(path)
    loaded = load_file(Path(path), name)
    if loaded.document is None:
        raise load_error(name, loaded.issues)
    return scenario_from_document(loaded.document, Path(path).parent, seed=seed, replications=replications)


def scenario_from_document(
    document: Any,
    base: Path,
    *,
    seed: int | None = None,
    replications: int | None = None,
    programs: tuple[Policy, ...] | None = None,
) -> Scenario:
    """Validate and compile a loaded scenario document; ``programs`` replaces the files it names."""
    from loyalsim.compile.build import content_hash
    from loyalsim.validate import validate_document

    name = document.file
    kind, issues = validate_document(document)
    errors = [i for i in issues if i.severity is Severity.ERROR]
    if kind == "Program":  # the wrong file: its own errors do not matter
        raise InvalidDocumentError(f"{name} is a Program, not a Scenario")
    if errors:
        raise InvalidDocumentError(f"{name} is not a valid scenario ({len(errors)} error(s))", errors)
    if kind != "Scenario":
        raise InvalidDocumentError(f"{name} is a {kind}, not a Scenario")
    data = document.data
    if programs is None:
        # normpath: `scenarios/../programs/x.yaml` is `programs/x.yaml` in every message and annotation
        programs = tuple(load_policy(Path(os.path.normpath(base / program))) for program in data["programs"])
    population = data["population"]
    # A value response's default reference: the program the scenario file names first (not a
    # program put in its place, as a sweep's point or a compare's B is).
    first = None
    named = data.get("programs", [])
    if named and _states_value_response(population):
        first = load_policy(Path(os.path.normpath(base / named[0])))
    segments = tuple(_segment(s, base, first) for s in population.get("segments", []))
    history = None
    if "history" in population:
        from loyalsim.population.history import load_history

        minor_units = programs[0].minor_units if programs else 2
        history = load_history(population["history"], base, name, minor_units, document.source)
        segments += (_history_segment(history, base, first),)
    start = day_number(data["start"]) if "start" in data else history.as_of + 1  # type: ignore[union-attr]
    end = int(add_duration(np.array([start]), parse_duration(data["horizon"]))[0])
    return Scenario(
        name=data["metadata"]["name"],
        file=name,
        programs=programs,
        start=start,
        days=end - start,
        seed=int(seed if seed is not None else data.get("seed", 0)),
        replications=int(replications if replications is not None else data.get("replications", 1)),
        initial=int(population.get("initial", 0)),
        arrivals_per_month=float(population.get("arrivals_per_month", 0)),
        segments=segments,
        economics={k: float(v) for k, v in data["economics"].items()},
        content_hash=content_hash(data),
        simulation_hash=content_hash(
            {
                k: v
                for k, v in data.items()
                if k
                not in (
                    "economics",
                    "guardrails",
                    "sensitivity",
                    "metadata",
                    "replications",
                    "seed",
                    "programs",
                )
            }
            | ({"history": history.digest} if history is not None else {})
            | _value_references(segments)
        ),
        guardrails=tuple(data.get("guardrails", [])),
        source=document.source,
        history=history,
    )
