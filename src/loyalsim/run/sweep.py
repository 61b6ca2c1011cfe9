"""Sweeps: a grid over program or scenario parameters, addressed by path.

Where: the run stage, behind ``loyalsim sweep``. ``--set earn[0].rate=1,1.5,2`` changes
the program; ``--set population.segments[0].response.redemption_propensity=0.6,0.9``
changes the scenario. A path goes to the program when its first key is a program section
(or is prefixed ``program.``), otherwise to the scenario (or ``scenario.``). Values are
read as YAML 1.2 scalars. Every point is validated before anything is simulated. Every
point uses the scenario's seed, so points are compared on the same customers and random
numbers.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from loyalsim.errors import InvalidDocumentError, UsageError
from loyalsim.issues import Issue, Severity
from loyalsim.load import LoadedDocument, load_text

PROGRAM_KEYS = frozenset(
    {
        "metadata",
        "type",
        "points",
        "earn",
        "tiers",
        "rewards",
        "expiry",
        "membership",
        "cashback",
        "value",
        "community",
        "referral",
        "campaigns",
        "reminders",
    }
)
_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")


@dataclass(frozen=True)
class Axis:
    target: str  # program or scenario
    path: tuple[str | int, ...]
    text: str  # as the user wrote it
    values: tuple[Any, ...]


def parse_path(text: str) -> tuple[str, tuple[str | int, ...]]:
    parts: list[str | int] = []
    position = 0
    for match in _TOKEN.finditer(text):
        if match.start() != position and text[position : match.start()] != ".":
            raise UsageError(
                f"--set {text}: cannot read the path near {text[position:]!r}; write e.g. earn[0].rate"
            )
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if position != len(text) or not parts or not isinstance(parts[0], str):
        raise UsageError(f"--set {text}: not a path such as earn[0].rate or population.segments[0].share")
    if parts[0] in ("program", "scenario"):
        return str(parts[0]), tuple(parts[1:])
    return ("program" if parts[0] in PROGRAM_KEYS else "scenario"), tuple(parts)


def parse_axis(option: str) -> Axis:
    path_text, sep, values_text = option.partition("=")
    if not sep or not values_text.strip():
        raise UsageError(
            f"--set {option!r}: write PATH=V1,V2,... e.g. 'earn[0].rate=1,1.5,2' (quoted: zsh reads [0] as a pattern)"
        )
    target, path = parse_path(path_text.strip())
    values = []
    for item in values_text.split(","):
        loaded = load_text(f"v: {item.strip()}\n", "--set")
        if loaded.document is None:
            raise UsageError(f"--set {option!r}: cannot read the value {item.strip()!r}")
        values.append(loaded.document.data["v"])
    return Axis(target, path, path_text.strip(), tuple(values))


def assign(document: dict[str, Any], path: tuple[str | int, ...], value: Any, label: str) -> None:
    """Set ``value`` at ``path``, creating missing mapping keys; list positions must exist."""
    from loyalsim.issues import format_path

    node: Any = document
    for depth, part in enumerate(path):
        where = format_path(path[:depth]) if depth else "the document"
        last = depth == len(path) - 1
        if isinstance(part, int):
            if not isinstance(node, list):
                raise UsageError(f"--set {label}: {where} is not a list, so [{part}] does not apply")
            if part >= len(node):
                raise UsageError(
                    f"--set {label}: {where} has {len(node)} item(s), so [{part}] does not exist"
                )
        elif not isinstance(node, dict):
            raise UsageError(f"--set {label}: {where} is not a mapping, so '{part}' does not apply")
        elif not last and part not in node:
            node[part] = [] if isinstance(path[depth + 1], int) else {}
        if last:
            node[part] = value
        else:
            node = node[part]


def parse_axes(options: list[str]) -> list[Axis]:
    """Every ``--set`` option as an axis; one path set twice is refused (which value would win?)."""
    axes = [parse_axis(option) for option in options]
    seen: dict[tuple[str, tuple[str | int, ...]], Axis] = {}
    for axis in axes:
        earlier = seen.setdefault((axis.target, axis.path), axis)
        if earlier is not axis:
            values = ",".join(str(v) for v in (*earlier.values, *axis.values))
            raise UsageError(
                f"--set {axis.text} is given twice ({earlier.text} and {axis.text}); give all its "
                f"values in one --set, e.g. {axis.text}={values}"
            )
    return axes


# A sweep's default bound on its runs (points x replications). A grid past it is most often a
# typo (a range written as a thousand values); --max-runs raises it.
MAX_RUNS = 10_000


def point_count(axes: list[Axis]) -> int:
    """How many points the grid has, without building it."""
    return math.prod(len(axis.values) for axis in axes)


def check_run_count(axes: list[Axis], replications: int, max_runs: int) -> None:
    """Refuse, before any point is validated, a grid of more than ``max_runs`` runs."""
    count = point_count(axes)
    runs = count * replications
    if runs > max_runs:
        sizes = " x ".join(str(len(axis.values)) for axis in axes)
        raise UsageError(
            f"the sweep has {count:,} point(s) ({sizes}) x {replications:,} replication(s) = {runs:,} "
            f"runs, more than --max-runs {max_runs:,}; give fewer values, or raise --max-runs if "
            "you mean it (`loyalsim simulate` on one point estimates a run's time)"
        )


def points(axes: list[Axis]) -> list[tuple[Any, ...]]:
    return list(itertools.product(*(axis.values for axis in axes)))


def apply(
    base: LoadedDocument, axes: list[Axis], target: str, point: tuple[Any, ...], name: str
) -> LoadedDocument:
    """The base document with this point's values set, re-loaded so it can be validated."""
    document = copy.deepcopy(base.data)
    for axis, value in zip(axes, point, strict=True):
        if axis.target == target:
            assign(document, axis.path, value, axis.text)
    loaded = load_text(json.dumps(document), name)
    assert loaded.document is not None
    # The values changed, the paths did not: issues point into the user's file (the value set
    # by --set stands where the original stood), not into the one-line JSON it was re-read from.
    return dataclasses.replace(
        loaded.document, source=base.source, text=base.text, suppressions=base.suppressions
    )


def describe(axes: list[Axis], point: tuple[Any, ...]) -> str:
    return ", ".join(f"{axis.text}={value}" for axis, value in zip(axes, point, strict=True))


def invalid(point_text: str, error: InvalidDocumentError) -> list[Issue]:
    return [
        Issue(i.code, Severity.ERROR, f"at {point_text}: {i.message}", i.file, i.line, i.column, i.path)
        for i in error.issues
    ] or [Issue("LS100", Severity.ERROR, f"at {point_text}: {error}", "sweep", 0, 0)]


def point_row(
    index: int, axes: list[Any], point: tuple[Any, ...], headline: dict[str, Any]
) -> dict[str, Any]:
    """One tidy row: the point's parameter values and its headline figures (mean, P5, P95)."""
    row: dict[str, Any] = {"point": index}
    row.update({axis.text: value for axis, value in zip(axes, point, strict=True)})
    for metric, stats in headline["program_arm"].items():
        row[f"{metric}_mean"] = stats["mean"]
        row[f"{metric}_p5"], row[f"{metric}_p95"] = stats["p5"], stats["p95"]
    incremental = headline["incremental_revenue"]
    row["incremental_revenue_mean"] = incremental["mean"]
    row["incremental_revenue_p5"], row["incremental_revenue_p95"] = incremental["p5"], incremental["p95"]
    for metric, stats in headline["finance"].get("end", {}).items():
        row[f"{metric}_end_mean"] = stats["mean"]
        row[f"{metric}_end_p5"], row[f"{metric}_end_p95"] = stats["p5"], stats["p95"]
    for metric in ("program_cost", "incremental_gross_margin", "net_benefit", "roi", "npv", "fee_revenue"):
        stats = headline.get("economics", {}).get(metric)
        if stats is not None:
            row[f"{metric}_mean"] = stats["mean"]
            row[f"{metric}_p5"], row[f"{metric}_p95"] = stats["p5"], stats["p95"]
    return row
