"""``loyalsim sweep`` (called from cli.app)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


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
    from loyalsim import api
    from loyalsim.cli.progress import command_runner
    from loyalsim.run.runner import Checkpoints, Task

    def label(tasks: list[Task]) -> str:
        count = len({(id(t.policy), id(t.scenario)) for t in tasks})
        return f"sweep of {count} point(s) x {tasks[0].scenario.replications} replication(s)"

    runner = command_runner(
        workers=workers,
        cluster=cluster,
        folder=out,
        output_format=output_format,
        label=label,
        verbose=verbose,
    )
    try:
        result = api.sweep(
            program, scenario, settings, replications=replications, max_runs=max_runs, runner=runner
        )
    except api.PointsInvalid as error:
        for issue in error.issues[:40]:
            sys.stderr.write(f"{issue.location}: {issue.severity.value} {issue.code} {issue.message}\n")
        sys.stderr.write(f"loyalsim: {error}\n")
        return 1
    result.write(out)
    Checkpoints(out).clear()
    axes, rows = result.axes, result.rows
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
