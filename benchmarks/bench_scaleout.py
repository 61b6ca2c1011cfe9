"""Scale-out: 100 replications of 100,000 customers over 36 months with the coffee-stars
program, in process vs ``--workers 2`` vs a two-worker Dask LocalCluster, in the same run.

Each backend runs the same `loyalsim simulate` command end to end (start-up, simulation,
outputs). The speed-up is against the in-process run on one core (``LOYALSIM_THREADS=1``:
from 10,000 customers a replication otherwise uses a thread beside its own, so the usual
in-process run already keeps both cores partly busy; it is reported too). The outputs of
all runs must be identical byte for byte, which this benchmark checks too.

Target: at least 1.7x with two workers on a 2-core machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def _scenario(folder: Path, customers: int, replications: int) -> Path:
    data = yaml.safe_load((ROOT / "scenarios" / "coffee-baseline.yaml").read_text())
    data["programs"] = [str(ROOT / "programs" / "coffee-stars.yaml")]
    data["population"]["initial"], data["population"]["arrivals_per_month"] = customers, 0
    data["replications"] = replications
    data.pop("guardrails", None)
    path = folder / "scaleout.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _simulate(scenario: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> float:
    command = [
        str(BIN / "loyalsim"),
        "simulate",
        str(ROOT / "programs" / "coffee-stars.yaml"),
        str(scenario),
        "--out",
        str(out),
        "--format",
        "json",
        *extra,
    ]
    started = time.perf_counter()
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, env={**os.environ, **env} if env else None
    )
    wall = time.perf_counter() - started
    if result.returncode:
        raise RuntimeError(result.stderr[-2000:])
    return wall


def run(quick: bool = False) -> dict[str, Any]:
    customers, replications = (20_000, 10) if quick else (100_000, 100)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario = _scenario(folder, customers, replications)
        timings = {
            "in_process": _simulate(scenario, folder / "inline", env={"LOYALSIM_THREADS": "1"}),
            "in_process_threads": _simulate(scenario, folder / "threads"),
            "workers_2": _simulate(scenario, folder / "workers", "--workers", "2"),
            "dask_local_2": _simulate(scenario, folder / "dask", "--cluster", "local", "--workers", "2"),
        }
        reference = (folder / "inline" / "monthly.csv").read_bytes()
        identical = all(
            (folder / name / "monthly.csv").read_bytes() == reference
            for name in ("threads", "workers", "dask")
        )
    out: dict[str, Any] = {
        "customers": customers,
        "replications": replications,
        "months": 36,
        "identical_outputs": identical,
    }
    base = timings["in_process"]
    for name, wall in timings.items():
        out[f"{name}_s"] = round(wall, 1)
        out[f"{name}_speedup"] = round(base / wall, 2)
        verdict = (
            ""
            if name.startswith("in_process")
            else f" (target >= 1.7x: {'met' if base / wall >= 1.7 else 'MISSED'}; "
            f"{timings['in_process_threads'] / wall:.2f}x the in-process run with its thread beside)"
        )
        print(
            f"{name:>18}: {wall:8.1f} s for {replications} replications of {customers:,} customers x 36 months "
            f"-> {base / wall:.3f}x{verdict}"
        )
    print(f"outputs identical across backends: {identical}")
    if not identical:
        raise RuntimeError("backends disagree")
    return out
