"""``loyalsim sensitivity`` (called from cli.app): one-at-a-time low/high runs, ranked, with tornado charts."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from loyalsim.errors import InvalidDocumentError, UsageError, load_error


def run_sensitivity(
    program: Path,
    scenario: Path,
    replications: int | None,
    out: Path,
    output_format: str,
    workers: int | None,
    cluster: str | None,
    verbose: bool = False,
) -> int:
    import pyarrow as pa

    from loyalsim.cli.progress import run_replications
    from loyalsim.compile import load_policy
    from loyalsim.fileio import atomic_write_table, atomic_write_text
    from loyalsim.load import load_file
    from loyalsim.measure.monthly import monthly_table
    from loyalsim.measure.summary import summary
    from loyalsim.population.scenario import scenario_from_document
    from loyalsim.report.sensitivity_html import render
    from loyalsim.run.runner import Checkpoints, Task
    from loyalsim.run.sensitivity import METRICS, assumptions, metric_values, relevant, unknown_ranges
    from loyalsim.run.sweep import apply, parse_axis

    policy = load_policy(program)
    read = load_file(scenario, str(scenario))
    if read.document is None:
        raise load_error(str(scenario), read.issues)
    base_doc = read.document
    base = scenario_from_document(base_doc, scenario.parent, replications=replications, programs=(policy,))
    for index, path in unknown_ranges(base_doc.data):
        line, column = base_doc.source.locate(("sensitivity", "ranges", index, "path"))
        raise UsageError(
            f"{scenario}:{line}:{column}: sensitivity.ranges[{index}].path {path!r} is not an "
            "assumption loyalsim varies; use population.segments[N].response.NAME or economics.NAME "
            "(docs/check.md lists them)"
        )
    listed = assumptions(base_doc.data, relevant(policy))
    variants: list[tuple[str, str, Any]] = [("base", "base", base)]
    for assumption in listed:
        for side, value in (("low", assumption.low), ("high", assumption.high)):
            axis = parse_axis(f"{assumption.path}={value}")
            try:
                compiled = scenario_from_document(
                    apply(base_doc, [axis], "scenario", (axis.values[0],), str(scenario)),
                    scenario.parent,
                    replications=replications,
                    programs=(policy,),
                )
            except InvalidDocumentError as error:
                raise UsageError(
                    f"{assumption.path}={value} makes the scenario invalid: "
                    f"{error.issues[0].message if error.issues else error}"
                ) from None
            variants.append((assumption.path, side, compiled))
    tasks = [Task(policy, compiled, i) for _, _, compiled in variants for i in range(compiled.replications)]
    reps = run_replications(
        tasks,
        workers=workers,
        cluster=cluster,
        folder=out,
        output_format=output_format,
        label="sensitivity",
        verbose=verbose,
    )
    values: dict[tuple[str, str], dict[str, float | None]] = {}
    start = 0
    for path, side, compiled in variants:
        part = reps[start : start + compiled.replications]
        start += compiled.replications
        values[(path, side)] = metric_values(summary(policy, compiled, monthly_table(policy, compiled, part)))
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
    for metric in METRICS:  # rank 1 = the largest absolute swing
        ordered = sorted(rows, key=lambda r: -abs(r[f"{metric}_swing"] or 0.0))
        for rank, row in enumerate(ordered, 1):
            row[f"{metric}_rank"] = rank
    rows.sort(key=lambda r: r["liability_at_end_rank"])
    table = pa.Table.from_pylist(rows)
    atomic_write_table(out, "sensitivity", table)
    document = {
        "program": {"name": policy.name, "content_hash": policy.content_hash},
        "scenario": {"name": base.name, "content_hash": base.content_hash},
        "seed": base.seed,
        "replications": base.replications,
        "base": values[("base", "base")],
        "assumptions": rows,
    }
    atomic_write_text(out / "sensitivity.json", json.dumps(document, indent=2) + "\n")
    atomic_write_text(out / "sensitivity.html", render(document))
    Checkpoints(out).clear()
    if output_format == "json":
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return 0
    lines = [
        f"{policy.title} on {base.name}: {len(listed)} assumptions, low and high, "
        f"{base.replications} replication(s) each, same random numbers",
        f"{'assumption':52}{'low':>10}{'high':>10}{'liability swing':>18}{'cost swing':>14}{'ROI swing':>12}",
    ]
    for row in rows:
        roi = row["roi_swing"]
        lines.append(
            f"{row['assumption']:52}{row['low_value']:>10.4g}{row['high_value']:>10.4g}"
            f"{_number(row['liability_at_end_swing']):>18}{_number(row['program_cost_swing']):>14}"
            f"{(f'{roi:+.1%}' if roi is not None and math.isfinite(roi) else '-'):>12}"
        )
    lines.append(
        f"results written to {out}/ (sensitivity.html with tornado charts, sensitivity.csv, .parquet, .json)"
    )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _number(value: float | None) -> str:
    return f"{value:+,.0f}" if value is not None else "-"
