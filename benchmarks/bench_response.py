"""`loyalsim fit response` on 1 million customers and about 10 million transactions.

The data are the simulator's own (`simulate --transactions`, Parquet): BG/NBD customers buying
about ten times in 18 months (benchmarks/history_data.py's BUSY parameters), a frequency lift
of 0.10, self-selected enrolment (enrolment_selection 1, about 120 days after the first
purchase). Timed as a user runs it: the installed command reads both files, cuts each
member's history at enrolment, fits BG/NBD with the enrolment-dependent prior and
Gamma-Gamma, and bootstraps 200 replicates. The baseline in the same run is `loyalsim fit
purchases` on the same file (the BG/NBD and Gamma-Gamma fit a user runs anyway), so the
ratio says what measuring the effect costs beyond it. Target: under a minute, within a few GB
(peak resident memory of the command, from the kernel's rusage).
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from history_data import BUSY

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "programs" / "classic-rewards.yaml"


def _loyalsim() -> str:
    found = shutil.which("loyalsim", path=str(Path(sys.executable).parent)) or shutil.which("loyalsim")
    if found is None:
        raise RuntimeError("the loyalsim command is not installed (make install)")
    return found


def _timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak resident GiB of the child, and its standard output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # (ru_maxrss of children is the largest child so far: only a new maximum is this child's.)
    return wall, max(peak, before) / 2**20, done.stdout


def _scenario(folder: Path, customers: int) -> Path:
    data = yaml.safe_load((ROOT / "tests" / "data" / "response" / "self-selection.yaml").read_text())
    r, alpha, a, b = BUSY
    data["programs"] = [str(PROGRAM)]
    data["population"]["initial"] = customers
    data["horizon"] = "18 months"
    data["population"]["segments"][0]["purchase"]["params"] = {"r": r, "alpha": alpha, "a": a, "b": b}
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run(quick: bool = False) -> dict[str, Any]:
    customers = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        data = folder / "data"
        started = time.perf_counter()
        subprocess.run(
            [
                _loyalsim(),
                "simulate",
                str(PROGRAM),
                str(_scenario(folder, customers)),
                "--out",
                str(folder / "sim"),
                "--transactions",
                str(data),
                "--transactions-format",
                "parquet",
            ],
            capture_output=True,
            check=True,
        )
        import pyarrow.parquet as pq

        rows = pq.read_metadata(data / "transactions.parquet").num_rows
        members = pq.read_metadata(data / "members.parquet").num_rows
        print(
            f"{rows:,} transactions, {customers:,} customers, {members:,} members "
            f"(written by simulate --transactions in {time.perf_counter() - started:.1f} s)"
        )
        transactions = str(data / "transactions.parquet")
        base = [_timed([_loyalsim(), "fit", "purchases", transactions, "--format", "json"]) for _ in range(2)]
        fits = [
            _timed(
                [
                    _loyalsim(),
                    "fit",
                    "response",
                    transactions,
                    "--members",
                    str(data / "members.parquet"),
                    "--format",
                    "json",
                ]
            )
            for _ in range(2)
        ]
        best_base, best = min(t[0] for t in base), min(t[0] for t in fits)
        peak = max(t[1] for t in fits)
        estimate = json.loads(fits[-1][2])
        lift = estimate["frequency_lift"]
        print(f"  loyalsim fit purchases (baseline): {best_base:.1f} s")
        print(
            f"  loyalsim fit response: {best:.1f} s ({best / best_base:.1f}x fit purchases), peak {peak:.2f} GiB; "
            f"frequency_lift {lift['estimate']:.3f} [{lift['ci_low']:.3f}, {lift['ci_high']:.3f}] (truth 0.10), "
            f"naive {estimate['naive']['frequency_lift']:.2f}; {estimate['measured_members']:,} members measured"
        )
        print(f"  target under 60 s: {'met' if best < 60 else 'MISSED'}")
        return {
            "customers": customers,
            "rows": rows,
            "members": members,
            "fit_purchases_seconds": [round(t[0], 2) for t in base],
            "fit_response_seconds": [round(t[0], 2) for t in fits],
            "peak_gib": round(peak, 2),
            "frequency_lift": lift,
            "naive": estimate["naive"],
            "target_met": best < 60,
        }
