"""``sensitivity`` for the API: each assumption at its low and its high value, one at a time, on
the same customers and random numbers, ranked by how far it moves each headline figure."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow as pa

from loyalsim.api.loading import PathLike, Runner, load_program, task_runner
from loyalsim.compile.policy import Policy
from loyalsim.errors import InvalidDocumentError, UsageError, load_error
from loyalsim.population.scenario import Scenario
from loyalsim.run.runner import Task


@dataclass
class SensitivityResult:
    """The base run's figures and one row per assumption (its low and high values, each metric at
    both and its swing and rank; ordered by the swing of the liability at the end)."""

    policy: Policy
    base: Scenario
    base_values: dict[str, float | None]
    rows: list[dict[str, Any]]

    @cached_property
    def table(self) -> pa.Table:
        """The rows as a table (sensitivity.parquet)."""
        return pa.Table.from_pylist(self.rows)

    @cached_property
    def document(self) -> dict[str, Any]:
        """What sensitivity.json holds: the program, the scenario, the base figures and the rows."""
        return {
            "program": {"name": self.policy.name, "content_hash": self.policy.content_hash},
            "scenario": {"name": self.base.name, "content_hash": self.base.content_hash},
            "seed": self.base.seed,
            "replications": self.base.replications,
            "base": self.base_values,
            "assumptions": self.rows,
        }

    def write(self, folder: PathLike) -> Path:
        """sensitivity.{parquet,csv,json,html} (the tornado charts) in ``folder``."""
        import json

        from loyalsim.fileio import atomic_write_table, atomic_write_text, output_set
        from loyalsim.report.sensitivity_html import render

        out = Path(folder)
        with output_set():
            atomic_write_table(out, "sensitivity", self.table)
            atomic_write_text(out / "sensitivity.json", json.dumps(self.document, indent=2) + "\n")
            atomic_write_text(out / "sensitivity.html", render(self.document))
        return out


def sensitivity(
    program: PathLike | Policy,
    scenario: PathLike,
    *,
    replications: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    checkpoints: PathLike | None = None,
    runner: Runner | None = None,
) -> SensitivityResult:
    """One-at-a-time sensitivity, as ``loyalsim sensitivity`` does: every behavioural response per
    segment and every economic parameter the program uses, over the scenario's
    ``sensitivity.ranges`` or the documented default ranges (docs/check.md)."""
    from loyalsim.load import load_file
    from loyalsim.measure.monthly import monthly_table
    from loyalsim.measure.summary import summary
    from loyalsim.population.scenario import scenario_from_document
    from loyalsim.run.sensitivity import assumptions, metric_values, relevant, unknown_ranges

    policy = load_program(program)
    path = Path(scenario)
    read = load_file(path, str(path))
    if read.document is None:
        raise load_error(str(path), read.issues)
    document = read.document
    base = scenario_from_document(document, path.parent, replications=replications, programs=(policy,))
    for index, name in unknown_ranges(document.data):
        line, column = document.source.locate(("sensitivity", "ranges", index, "path"))
        raise UsageError(
            f"{path}:{line}:{column}: sensitivity.ranges[{index}].path {name!r} is not an "
            "assumption loyalsim varies; use population.segments[N].response.NAME or economics.NAME "
            "(docs/check.md lists them)"
        )
    listed = assumptions(document.data, relevant(policy))
    variants: list[tuple[str, str, Scenario]] = [("base", "base", base)]
    for assumption in listed:
        for side, value in (("low", assumption.low), ("high", assumption.high)):
            variants.append(
                (
                    assumption.path,
                    side,
                    _variant(document, path, assumption.path, value, replications, policy),
                )
            )
    run = runner if runner is not None else task_runner(workers, cluster, checkpoints)
    reps = run(
        [Task(policy, compiled, i) for _, _, compiled in variants for i in range(compiled.replications)]
    )
    values: dict[tuple[str, str], dict[str, float | None]] = {}
    start = 0
    for name, side, compiled in variants:
        part = reps[start : start + compiled.replications]
        start += compiled.replications
        values[(name, side)] = metric_values(summary(policy, compiled, monthly_table(policy, compiled, part)))
    return SensitivityResult(policy, base, values[("base", "base")], _ranked(listed, values))


def _variant(
    document: Any, path: Path, setting: str, value: Any, replications: int | None, policy: Policy
) -> Scenario:
    """The scenario with one assumption set to ``value``."""
    from loyalsim.population.scenario import scenario_from_document
    from loyalsim.run.sweep import apply, parse_axis

    axis = parse_axis(f"{setting}={value}")
    try:
        return scenario_from_document(
            apply(document, [axis], "scenario", (axis.values[0],), str(path)),
            path.parent,
            replications=replications,
            programs=(policy,),
        )
    except InvalidDocumentError as error:
        raise UsageError(
            f"{setting}={value} makes the scenario invalid: "
            f"{error.issues[0].message if error.issues else error}"
        ) from None


def _ranked(
    listed: list[Any], values: dict[tuple[str, str], dict[str, float | None]]
) -> list[dict[str, Any]]:
    """One row per assumption with each metric's value at low and high, its swing, and its rank
    (1 = the largest absolute swing); ordered by the liability's rank."""
    from loyalsim.run.sensitivity import METRICS

    rows = []
    for assumption in listed:
        row: dict[str, Any] = {
            "assumption": assumption.path,
            "range_from": assumption.source,
            "base_value": assumption.base,
            "low_value": assumption.low,
            "high_value": assumption.high,
        }
        for metric in METRICS:
            low, high = values[(assumption.path, "low")][metric], values[(assumption.path, "high")][metric]
            row[f"{metric}_base"] = values[("base", "base")][metric]
            row[f"{metric}_at_low"], row[f"{metric}_at_high"] = low, high
            row[f"{metric}_swing"] = high - low if low is not None and high is not None else None
        rows.append(row)
    for metric in METRICS:
        ordered = sorted(rows, key=lambda r: -abs(r[f"{metric}_swing"] or 0.0))
        for rank, row in enumerate(ordered, 1):
            row[f"{metric}_rank"] = rank
    rows.sort(key=lambda r: r["liability_at_end_rank"])
    return rows
