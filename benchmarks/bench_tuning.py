"""Process tuning: what each setting of loyalsim.tuning gains, measured by leaving it out.

Two jobs, each run with every setting of the job (``LOYALSIM_TUNING=all``) and with one left
out (``-NAME``), in rotated order over several rounds: `loyalsim earn` on 10M rows of 1M
customers (the replay benchmark's file and program), and `loyalsim simulate` of coffee-stars
on 1M customers over 12 months without arrivals. A setting's gain is the median wall time
without it over the median with every setting (above 1: it pays), and likewise for peak
memory. ``LOYALSIM_TUNING=none`` is run too: every setting against none.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from child import run_child
from loyalsim.tuning import SETTINGS
from replay_data import write_program, write_transactions

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]


def _simulation_scenario(folder: Path, customers: int) -> Path:
    text = (ROOT / "scenarios" / "coffee-baseline.yaml").read_text()
    text = text[: text.index("guardrails:")]  # (a forecast's assertions: not for a 12-month run)
    text = (
        text.replace("initial: 20000", f"initial: {customers}")
        .replace("arrivals_per_month: 800", "arrivals_per_month: 0")
        .replace("horizon: 36 months", "horizon: 12 months")
        .replace("../programs/", f"{ROOT / 'programs'}/")
    )
    path = folder / "tuning-scenario.yaml"
    path.write_text(text)
    return path


def _variants(job: str) -> list[str]:
    """all, none, and each setting left out (when the job has one setting, leaving it out is none)."""
    own = [name for name, jobs in SETTINGS.items() if job in jobs]
    return ["all", "none", *(f"-{name}" for name in own if len(own) > 1)]


def _measure(command: list[str], variants: list[str], rounds: int) -> dict[str, dict[str, float]]:
    """Median wall (s) and peak (GB) of ``command`` under each ``LOYALSIM_TUNING`` variant."""
    walls: dict[str, list[float]] = {v: [] for v in variants}
    peaks: dict[str, list[float]] = {v: [] for v in variants}
    for number in range(rounds):
        order = variants[number % len(variants) :] + variants[: number % len(variants)]
        for variant in order:
            wall, rss, _ = run_child(command, env={"LOYALSIM_TUNING": variant})
            walls[variant].append(wall)
            peaks[variant].append(rss / 2**30)
    return {
        v: {
            "wall_s": round(statistics.median(walls[v]), 3),
            "peak_gb": round(statistics.median(peaks[v]), 3),
            "walls": [round(w, 2) for w in walls[v]],
        }
        for v in variants
    }


def _report(job: str, figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    base = figures["all"]
    gains = {}
    for variant, got in figures.items():
        if variant == "all":
            continue
        time_ratio = got["wall_s"] / base["wall_s"]
        memory_ratio = got["peak_gb"] / base["peak_gb"]
        gains[variant] = {
            "time_without_over_with": round(time_ratio, 3),
            "peak_without_over_with": round(memory_ratio, 3),
        }
        label = "every setting off" if variant == "none" else f"without {variant[1:]}"
        print(
            f"{job:8} {label:26} {got['wall_s']:6.2f} s ({time_ratio:5.3f}x of all: {got['walls']}), "
            f"peak {got['peak_gb']:.2f} GB ({memory_ratio:5.3f}x)"
        )
    print(
        f"{job:8} {'every setting on':26} {base['wall_s']:6.2f} s ({base['walls']}), peak {base['peak_gb']:.2f} GB"
    )
    return {"figures": figures, "gains": gains}


def run(quick: bool = False) -> dict[str, Any]:
    rows, customers = (1_000_000, 100_000) if quick else (10_000_000, 1_000_000)
    simulated = 100_000 if quick else 1_000_000
    rounds = 1 if quick else 5
    out: dict[str, Any] = {
        "rows": rows,
        "customers": customers,
        "simulated_customers": simulated,
        "rounds": rounds,
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        program = write_program(folder)
        big = folder / "big.csv"
        write_transactions(big, rows, customers, seed=1)
        os.sync()
        earn = [
            str(BIN / "loyalsim"),
            "earn",
            str(program),
            str(big),
            "--format",
            "parquet",
            "--out",
            str(folder / "out.parquet"),
        ]
        simulate = [
            str(BIN / "loyalsim"),
            "simulate",
            str(ROOT / "programs" / "coffee-stars.yaml"),
            str(_simulation_scenario(folder, simulated)),
            "--replications",
            "1",
            "--out",
            str(folder / "simulation"),
        ]
        run_child(earn)  # the kernels load (or compile, after an install) once: not timed
        run_child(simulate)
        out["replay"] = _report("earn", _measure(earn, _variants("replay"), rounds))
        out["simulate"] = _report("simulate", _measure(simulate, _variants("simulate"), rounds))
    return out
