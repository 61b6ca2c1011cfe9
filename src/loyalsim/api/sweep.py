"""``sweep`` for the API: a grid of program or scenario parameters, each point simulated on the
same customers and random numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow as pa

from loyalsim.api.loading import PathLike, Runner, task_runner, valid_document
from loyalsim.api.simulation import book_source
from loyalsim.errors import InvalidDocumentError, UsageError
from loyalsim.run.runner import Task


class PointsInvalid(InvalidDocumentError):
    """Some points of a sweep's grid make an invalid program or scenario (``issues``: each, located)."""


@dataclass
class SweepResult:
    """A grid of program or scenario parameters, each point simulated on the same customers:
    ``rows`` (one per point: its values and headline figures, mean, P5 and P95) and ``table``."""

    axes: list[Any]  # loyalsim.run.sweep.Axis: path, target and values of each --set
    rows: list[dict[str, Any]]
    program_title: str
    scenario_name: str

    @cached_property
    def table(self) -> pa.Table:
        """The rows as a table (sweep.parquet); the parameter columns as text."""
        texts = {axis.text for axis in self.axes}
        return pa.Table.from_pylist(
            [{k: (str(v) if k in texts else v) for k, v in r.items()} for r in self.rows]
        )

    def write(self, folder: PathLike) -> Path:
        """sweep.{parquet,csv,json,html} in ``folder``."""
        import json

        from loyalsim.fileio import atomic_write_table, atomic_write_text, output_set
        from loyalsim.report.sweep_html import render

        out = Path(folder)
        axes = [{"path": a.text, "target": a.target, "values": list(a.values)} for a in self.axes]
        with output_set():
            atomic_write_table(out, "sweep", self.table)
            document = json.dumps({"axes": axes, "points": self.rows}, indent=2, default=str)
            atomic_write_text(out / "sweep.json", document + "\n")
            html = render(
                self.axes, self.rows, policy_name=self.program_title, scenario_name=self.scenario_name
            )
            atomic_write_text(out / "sweep.html", html)
        return out


def sweep(
    program: PathLike,
    scenario: PathLike,
    settings: Sequence[str],
    *,
    replications: int | None = None,
    max_runs: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    checkpoints: PathLike | None = None,
    runner: Runner | None = None,
) -> SweepResult:
    """Simulate a grid of parameters, as ``loyalsim sweep`` does: ``settings`` are its ``--set``
    texts (``"earn[0].rate=1,1.5"``), over the program or the scenario; the grid is their product.
    Every point is validated before any is simulated (PointsInvalid lists what is wrong)."""
    from loyalsim.compile import compile_document
    from loyalsim.measure.monthly import monthly_table
    from loyalsim.measure.summary import summary
    from loyalsim.population.scenario import scenario_from_document
    from loyalsim.run.sweep import (
        MAX_RUNS,
        apply,
        check_run_count,
        describe,
        invalid,
        parse_axes,
        point_row,
        points,
    )

    if not settings:
        raise UsageError("give at least one --set PATH=V1,V2,...")
    program_path, scenario_path = Path(program), Path(scenario)
    axes = parse_axes(list(settings))
    limit = MAX_RUNS if max_runs is None else max_runs
    check_run_count(axes, replications or 1, limit)  # before reading anything: a huge grid is refused at once
    bases = {"program": valid_document(program_path), "scenario": valid_document(scenario_path)}
    if replications is None:  # the scenario's own count (schema-valid: an integer of at least 1)
        check_run_count(axes, int(bases["scenario"].data.get("replications", 1)), limit)
    prepared = []
    problems = []
    for point in points(axes):  # validate every point before simulating any
        try:
            policy = compile_document(apply(bases["program"], axes, "program", point, str(program_path)))
            compiled = scenario_from_document(
                apply(bases["scenario"], axes, "scenario", point, str(scenario_path)),
                scenario_path.parent,
                replications=replications,
                programs=(policy,),
            )
            prepared.append((point, policy, compiled))
        except InvalidDocumentError as error:
            problems += invalid(describe(axes, point), error)
    if problems:
        raise PointsInvalid(f"{len(problems)} problem(s) in the sweep's points; nothing simulated", problems)
    # On a running program's book every point changes the program that ran: it starts from its book.
    running = compile_document(bases["program"])
    run = runner if runner is not None else task_runner(workers, cluster, checkpoints)
    reps = run(
        [
            Task(policy, compiled, i, book_from=book_source(running, policy, compiled))
            for _, policy, compiled in prepared
            for i in range(compiled.replications)
        ]
    )
    rows: list[dict[str, Any]] = []
    start = 0
    for index, (point, policy, compiled) in enumerate(prepared):
        part = reps[start : start + compiled.replications]
        start += compiled.replications
        rows.append(
            point_row(index, axes, point, summary(policy, compiled, monthly_table(policy, compiled, part)))
        )
    return SweepResult(axes, rows, prepared[0][1].title, prepared[0][2].name)
