"""Outputs of ``loyalsim simulate``: monthly results and cohorts (CSV, Parquet), summary.json, report.html.

Where: the report stage, writing what the measure stage computes (:mod:`loyalsim.measure.monthly`
for the tables and their columns, :mod:`loyalsim.measure.summary` for the summary). Every
output carries the program and scenario content hashes, the seed and the loyalsim version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from loyalsim.compile.policy import Policy
from loyalsim.fileio import atomic_write_table, atomic_write_text
from loyalsim.measure.monthly import cohort_table, monthly_table
from loyalsim.measure.summary import cohort_summary, stamp, summary
from loyalsim.population.scenario import Scenario
from loyalsim.simulate.results import Replication


def write(out: Path, policy: Policy, scenario: Scenario, replications: list[Replication]) -> dict[str, Any]:
    """A simulation's files in ``out``; returns the summary (summary.json's content)."""
    table = monthly_table(policy, scenario, replications)
    headline = summary(policy, scenario, table)
    headline["cohorts"] = cohort_summary(replications)
    write_files(out, policy, scenario, table, cohort_table(policy, replications), headline)
    return headline


def write_files(
    out: Path,
    policy: Policy,
    scenario: Scenario,
    monthly: pa.Table,
    cohorts: pa.Table,
    headline: dict[str, Any],
) -> None:
    """monthly.{csv,parquet}, cohorts.{csv,parquet} (stamped), summary.json and report.html in ``out``."""
    metadata = {b"loyalsim": json.dumps(stamp(policy, scenario)).encode()}
    table = monthly.replace_schema_metadata(metadata)
    cohorts = cohorts.replace_schema_metadata(metadata)
    for name, data in (("monthly", table), ("cohorts", cohorts)):
        atomic_write_table(out, name, data)
    atomic_write_text(out / "summary.json", json.dumps(headline, indent=2) + "\n")
    from loyalsim.report.simulation_html import render

    atomic_write_text(out / "report.html", render(table, headline, cohorts))


def rerender(folder: Path) -> Path:
    """Write ``report.html`` again from the saved ``monthly.parquet`` and ``summary.json``."""
    import pyarrow.parquet as pq

    from loyalsim.errors import InputError
    from loyalsim.report.simulation_html import render

    missing = [name for name in ("monthly.parquet", "summary.json") if not (folder / name).is_file()]
    if missing:
        raise InputError(f"{folder}: not a `loyalsim simulate --out` folder: no {' or '.join(missing)}")
    try:
        table = pq.read_table(folder / "monthly.parquet")
        cohorts = (
            pq.read_table(folder / "cohorts.parquet") if (folder / "cohorts.parquet").is_file() else None
        )
        headline = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{folder}: cannot read the saved results: {str(exc).splitlines()[0]}") from exc
    if not isinstance(headline, dict):
        raise InputError(
            f"{folder / 'summary.json'}: line 1: the file holds a {type(headline).__name__}, not the "
            "object `loyalsim simulate` writes; run the simulation again to rewrite it"
        )
    try:
        page = render(table, headline, cohorts)
    except (AttributeError, KeyError, TypeError, IndexError, ValueError) as exc:
        raise InputError(
            f"{folder}: the saved results do not hold what `loyalsim simulate` writes "
            f"({type(exc).__name__}: {exc}); run the simulation again to rewrite them"
        ) from exc
    target = folder / "report.html"
    atomic_write_text(target, page)
    return target
