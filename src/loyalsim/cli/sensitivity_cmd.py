"""``loyalsim sensitivity``'s rendering (called from cli.app; the job is ``api.sensitivity``)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path


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
    from loyalsim import api
    from loyalsim.cli.progress import command_runner
    from loyalsim.run.runner import Checkpoints

    runner = command_runner(
        workers=workers,
        cluster=cluster,
        folder=out,
        output_format=output_format,
        label="sensitivity",
        verbose=verbose,
    )
    result = api.sensitivity(program, scenario, replications=replications, runner=runner)
    result.write(out)
    Checkpoints(out).clear()
    if output_format == "json":
        sys.stdout.write(json.dumps(result.document, indent=2) + "\n")
        return 0
    base = result.base
    lines = [
        f"{result.policy.title} on {base.name}: {len(result.rows)} assumptions, low and high, "
        f"{base.replications} replication(s) each, same random numbers",
        f"{'assumption':52}{'low':>10}{'high':>10}{'liability swing':>18}{'cost swing':>14}{'ROI swing':>12}",
    ]
    for row in result.rows:
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
