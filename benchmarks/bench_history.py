"""A forecast from a 10M-row, 1M-customer history, against the plain simulation of 1M customers.

The history (benchmarks/history_data.py, BUSY: about ten purchases a customer over 18 months)
is the book of a running tiered program with expiry and automatic redemption
(benchmarks/replay_data.py's bench-tiered). The forecast reads it, replays it to as_of through
the program, fits BG/NBD and Gamma-Gamma to it, draws each customer from their posterior and
simulates 12 months (one replication, in process). The baseline is the same program and
horizon on 1,000,000 new customers drawn from a segment with the generating parameters: what
the history adds is the difference. Both run as `loyalsim simulate` in a fresh process;
peak memory is each process's peak RSS, beside what the memory guard says it will use.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

import history_data
from child import run_child
from replay_data import write_program

SCENARIO: dict[str, Any] = {
    "apiVersion": "loyalsim/v1",
    "kind": "Scenario",
    "metadata": {"name": "bench-history"},
    "horizon": "12 months",
    "seed": 7,
    "replications": 1,
    "economics": {"gross_margin": 0.3, "reward_cost_ratio": 0.5},
}
RESPONSE = {"enrolment_rate": 1.0, "frequency_lift": 0.0, "redemption_propensity": 0.8}


def _scenarios(folder: Path, history: Path, customers: int, as_of: str, start: str) -> tuple[Path, Path]:
    program = write_program(folder)
    with_history = {
        **SCENARIO,
        "programs": [str(program)],
        "population": {
            "history": {
                "transactions": str(history),
                "as_of": as_of,
                "purchase": {"model": "bgnbd", "time_unit": "week"},
                "spend": {"model": "gamma_gamma"},
                "program_running": True,
                "response": RESPONSE,
            },
            "arrivals_per_month": 0,
        },
    }
    r, alpha, a, b = history_data.BUSY
    p, q, gamma = history_data.GAMMA_GAMMA
    plain = {
        **SCENARIO,
        "programs": [str(program)],
        "start": start,
        "population": {
            "initial": customers,
            "arrivals_per_month": 0,
            "segments": [
                {
                    "id": "all",
                    "share": 1.0,
                    "purchase": {
                        "model": "bgnbd",
                        "time_unit": "week",
                        "params": {"r": r, "alpha": alpha, "a": a, "b": b},
                    },
                    "spend": {"model": "gamma_gamma", "params": {"p": p, "q": q, "gamma": gamma}},
                    "response": RESPONSE,
                }
            ],
        },
    }
    paths = folder / "history.yaml", folder / "plain.yaml"
    for path, data in zip(paths, (with_history, plain), strict=True):
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return paths


def run(quick: bool = False) -> dict[str, Any]:
    customers = 100_000 if quick else 1_000_000
    loyalsim = str(Path(sys.executable).parent / "loyalsim")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        history = folder / "history.csv"
        rows = history_data.write(history, customers, bgnbd=history_data.BUSY)
        last = history_data.START + 547
        as_of, start = str(last), str(last + 1)
        with_history, plain = _scenarios(folder, history, customers, as_of, start)
        print(f"history: {rows:,} rows, {customers:,} customers, as of {as_of}; 12 months forecast")
        figures: dict[str, Any] = {"rows": rows, "customers": customers}
        for label, scenario in (("plain", plain), ("history", with_history)):
            runs = []
            for _ in range(1 if quick else 2):
                wall, rss, _ = run_child([loyalsim, "simulate", str(write_program(folder)), str(scenario)])
                runs.append((wall, rss))
            walls = [w for w, _ in runs]
            peak = max(r for _, r in runs)
            figures[label] = {"seconds": [round(w, 2) for w in walls], "peak_rss_bytes": peak}
            print(f"  {label:8}: {min(walls):6.2f}-{max(walls):6.2f} s, peak {peak / 2**30:.2f} GiB")
        added = min(figures["history"]["seconds"]) - min(figures["plain"]["seconds"])
        ratio = min(figures["history"]["seconds"]) / min(figures["plain"]["seconds"])
        memory = figures["history"]["peak_rss_bytes"] / figures["plain"]["peak_rss_bytes"]
        figures.update(
            added_seconds=round(added, 2), time_ratio=round(ratio, 2), memory_ratio=round(memory, 2)
        )
        print(
            f"  the history adds {added:.2f} s ({ratio:.2f}x the plain run) and {memory:.2f}x its peak memory"
        )
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
        from loyalsim.population.scenario import load_scenario
        from loyalsim.run import memory as guard

        estimate = guard.need(load_scenario(with_history), 1)
        figures["guard_estimate_bytes"] = estimate
        print(
            f"  the memory guard counts {estimate / 2**30:.2f} GiB for it "
            f"({'above' if estimate >= figures['history']['peak_rss_bytes'] else 'BELOW'} the peak)"
        )
        print(json.dumps({k: v for k, v in figures.items() if k in ("added_seconds", "time_ratio")}))
    return figures
