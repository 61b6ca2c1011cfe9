"""``loyalsim account LEDGER.csv``: IFRS 15 accounting for points on finance's own figures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from loyalsim.errors import UsageError
from loyalsim.finance.ifrs15 import METHOD, PeriodResult

OUTPUT = (
    "period",
    "sales",
    "allocated_to_points",
    "allocated_to_goods",
    "points_revenue",
    "contract_liability",
    "cumulative_allocated_to_points",
    "cumulative_points_revenue",
    "cumulative_points_issued",
    "cumulative_points_redeemed",
    "expected_points_redeemed",
    "redeemed_share",
)


def _table(results: list[PeriodResult]) -> str:
    shown = (
        "period",
        "sales",
        "allocated_to_points",
        "allocated_to_goods",
        "points_revenue",
        "contract_liability",
    )
    rows = [list(shown)] + [[str(r.as_dict()[c]) for c in shown] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(shown))]
    lines = [
        "  ".join(
            cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    return "\n".join(lines)


def run_account(path: Path, output_format: str, output: Path | None) -> int:
    from loyalsim.fileio import atomic_write_text, refuse_clashes

    if output_format not in ("text", "csv", "json"):
        raise UsageError("--format takes text, csv or json")
    if output is not None:
        refuse_clashes({"the ledger": path}, {"--output": output})
    from loyalsim import api

    results = api.account(path)
    if output_format == "json":
        text = json.dumps({"method": METHOD, "periods": [r.as_dict() for r in results]}, indent=2) + "\n"
    elif output_format == "csv":
        lines = [",".join(OUTPUT)] + [",".join(str(r.as_dict()[c]) for c in OUTPUT) for r in results]
        text = "\n".join(lines) + "\n"
    else:
        text = _table(results) + "\n\nMethod: " + METHOD + "\n"
    for r in results:
        if r.capped:
            sys.stderr.write(
                f"loyalsim: period {r.period}: more points redeemed ({r.cumulative_points_redeemed}) than "
                f"expected ({r.expected_points_redeemed}); revenue is capped at the amount allocated — "
                "the expected redemption rate looks too low\n"
            )
    if output is not None:
        atomic_write_text(output, text)
    else:
        sys.stdout.write(text)
    return 0
