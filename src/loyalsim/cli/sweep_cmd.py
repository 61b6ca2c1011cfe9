"""``loyalsim sweep`` (called from cli.app)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from loyalsim.errors import InvalidDocumentError, UsageError, load_error


def _point_row(
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


def run_sweep(
    program: Path,
    scenario: Path,
    settings: list[str],
    replications: int | None,
    out: Path,
    output_format: str,
    workers: int | None = None,
    cluster: str | None = None,
    max_runs: int | None = None,
    verbose: bool = False,
) -> int:
    import pyarrow as pa

    from loyalsim.compile import compile_document
    from loyalsim.fileio import atomic_write_table, atomic_write_text
    from loyalsim.issues import Severity
    from loyalsim.load import load_file
    from loyalsim.measure.monthly import monthly_table
    from loyalsim.measure.summary import summary
    from loyalsim.population.scenario import scenario_from_document
    from loyalsim.run.sweep import MAX_RUNS, apply, check_run_count, describe, invalid, parse_axes, points
    from loyalsim.validate import validate_document

    if not settings:
        raise UsageError("give at least one --set PATH=V1,V2,...")
    axes = parse_axes(settings)
    limit = MAX_RUNS if max_runs is None else max_runs
    check_run_count(axes, replications or 1, limit)  # before reading anything: a huge grid is refused at once
    bases = {}
    for label, path in (("program", program), ("scenario", scenario)):
        read = load_file(path, str(path))
        if read.document is None:
            raise load_error(str(path), read.issues)
        # The base itself first: a --set path into a broken document (kind: 7) is not a usage error.
        _, issues = validate_document(read.document)
        errors = [issue for issue in issues if issue.severity is Severity.ERROR]
        if errors:
            raise InvalidDocumentError(f"cannot load {path}", errors)
        bases[label] = read.document
    if replications is None:  # the scenario's own count (schema-valid: an integer of at least 1)
        check_run_count(axes, int(bases["scenario"].data.get("replications", 1)), limit)
    grid = points(axes)
    prepared = []
    problems = []
    for point in grid:  # validate every point before simulating any
        text = describe(axes, point)
        try:
            policy = compile_document(apply(bases["program"], axes, "program", point, str(program)))
            compiled = scenario_from_document(
                apply(bases["scenario"], axes, "scenario", point, str(scenario)),
                scenario.parent,
                replications=replications,
                programs=(policy,),
            )
            prepared.append((point, policy, compiled))
        except InvalidDocumentError as error:
            problems += invalid(text, error)
    if problems:
        for issue in problems[:40]:
            where = issue.location
            sys.stderr.write(f"{where}: {issue.severity.value} {issue.code} {issue.message}\n")
        sys.stderr.write(f"loyalsim: {len(problems)} problem(s) in the sweep's points; nothing simulated\n")
        return 1
    from loyalsim.cli.progress import run_replications
    from loyalsim.run.runner import Checkpoints, Task

    tasks = [
        Task(policy, compiled, i) for _, policy, compiled in prepared for i in range(compiled.replications)
    ]
    label = f"sweep of {len(prepared)} point(s) x {prepared[0][2].replications} replication(s)"
    reps = run_replications(
        tasks,
        workers=workers,
        cluster=cluster,
        folder=out,
        output_format=output_format,
        label=label,
        verbose=verbose,
    )
    rows: list[dict[str, Any]] = []
    start = 0
    for index, (point, policy, compiled) in enumerate(prepared):
        part = reps[start : start + compiled.replications]
        start += compiled.replications
        rows.append(
            _point_row(index, axes, point, summary(policy, compiled, monthly_table(policy, compiled, part)))
        )
    table = pa.Table.from_pylist(
        [{k: (str(v) if k in {a.text for a in axes} else v) for k, v in r.items()} for r in rows]
    )
    atomic_write_table(out, "sweep", table)
    atomic_write_text(
        out / "sweep.json",
        json.dumps(
            {
                "axes": [{"path": a.text, "target": a.target, "values": list(a.values)} for a in axes],
                "points": rows,
            },
            indent=2,
            default=str,
        )
        + "\n",
    )
    from loyalsim.report.sweep_html import render

    atomic_write_text(
        out / "sweep.html",
        render(axes, rows, policy_name=prepared[0][1].title, scenario_name=prepared[0][2].name),
    )
    Checkpoints(out).clear()
    if output_format == "json":
        sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
        return 0
    shown = ["incremental_revenue_mean", "liability_at_cost_end_mean", "program_cost_mean", "roi_mean"]
    header = [a.text for a in axes] + shown
    lines = ["  ".join(f"{h:>24}" for h in header)]
    for row in rows:
        cells = [f"{row[a.text]!s:>24}" for a in axes] + [
            f"{row.get(k, float('nan')):>24,.2f}" for k in shown
        ]
        lines.append("  ".join(cells))
    lines.append(f"results written to {out}/ (sweep.html, sweep.csv, sweep.parquet, sweep.json)")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
