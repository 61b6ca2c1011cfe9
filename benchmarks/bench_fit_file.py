"""`loyalsim fit purchases` end to end on a 1M-customer transaction file, beside lifetimes.

The file (about 3.2 million rows, 1,000,000 customers over 18 months) is drawn from BG/NBD
and Gamma-Gamma (benchmarks/history_data.py). Timed as a user runs it: the installed command
reads the CSV, summarises it, fits BG/NBD (or Pareto/NBD) and Gamma-Gamma, and prints JSON.
The comparison is what a user would pick instead: lifetimes' summary_data_from_transaction_data,
BetaGeoFitter and GammaGammaFitter on the same file, read with pandas. lifetimes is not a
dependency of loyalsim (unmaintained since 2020); give an interpreter that has it with
LIFETIMES_PYTHON=/path/to/python, or the comparison is skipped (LIFETIMES_PARETO=1 adds its
Pareto/NBD fit, which takes minutes). Target: BG/NBD with Gamma-Gamma under 10 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import history_data

LIFETIMES = """\
import json, sys, time
started = time.perf_counter()
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data
tx = pd.read_csv(sys.argv[1], dtype={"customer_id": str}, parse_dates=["date"])
summary = summary_data_from_transaction_data(tx, "customer_id", "date", monetary_value_col="amount", freq="W")
read = time.perf_counter()
bg = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
repeat = summary[summary["frequency"] > 0]
gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
done = time.perf_counter()
out = {"read_s": read - started, "total_s": done - started, "bgnbd": dict(bg.params_),
       "gamma_gamma": dict(gg.params_)}
if len(sys.argv) > 2:  # Pareto/NBD too (minutes at a million customers)
    from lifetimes import ParetoNBDFitter
    pn = ParetoNBDFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    out["pareto_s"] = (read - started) + time.perf_counter() - done
    out["pareto"] = dict(pn.params_)
print(json.dumps(out))
"""


def _loyalsim() -> str:
    found = shutil.which("loyalsim", path=str(Path(sys.executable).parent)) or shutil.which("loyalsim")
    if found is None:
        raise RuntimeError("the loyalsim command is not installed (make install)")
    return found


def _timed(command: list[str]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, json.loads(done.stdout)


def run(quick: bool = False) -> dict[str, Any]:
    customers = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.csv"
        rows = history_data.write(path, customers)
        result: dict[str, Any] = {"customers": customers, "rows": rows}
        print(f"{rows:,} rows, {customers:,} customers (BG/NBD r, alpha, a, b = {history_data.BGNBD})")
        for model in ("bgnbd", "pareto-nbd"):
            times = []
            for _ in range(1 if quick else 3):
                wall, fitted = _timed(
                    [_loyalsim(), "fit", "purchases", str(path), "--model", model, "--format", "json"]
                )
                times.append(wall)
            estimates = ", ".join(f"{k} {v:.3f}" for k, v in fitted["params"].items())
            print(
                f"  loyalsim fit purchases --model {model}: {min(times):.2f}-{max(times):.2f} s ({estimates})"
            )
            result[model] = {"seconds": [round(t, 2) for t in times], "params": fitted["params"]}
        best = min(result["bgnbd"]["seconds"])
        result["target_met"] = best < 10
        print(
            f"  BG/NBD with Gamma-Gamma end to end: {best:.2f} s (target < 10 s: {'met' if best < 10 else 'MISSED'})"
        )
        python = os.environ.get("LIFETIMES_PYTHON")
        if python:
            script = Path(folder) / "lifetimes_fit.py"
            script.write_text(LIFETIMES)
            pareto = os.environ.get("LIFETIMES_PARETO") == "1"
            wall, theirs = _timed([python, str(script), str(path)] + (["pareto"] if pareto else []))
            wall -= theirs.get("pareto_s", 0.0) - theirs["read_s"]  # BG/NBD with Gamma-Gamma alone
            estimates = ", ".join(f"{k} {v:.3f}" for k, v in theirs["bgnbd"].items())
            print(
                f"  lifetimes (pandas read, summary, BetaGeoFitter, GammaGammaFitter): {wall:.2f} s "
                f"({estimates}; weekly periods) -> loyalsim {wall / best:.1f}x faster"
            )
            if pareto:
                fastest = min(result["pareto-nbd"]["seconds"])
                print(
                    f"  lifetimes ParetoNBDFitter (with the read and summary): {theirs['pareto_s']:.1f} s "
                    f"-> loyalsim --model pareto-nbd {theirs['pareto_s'] / fastest:.1f}x faster"
                )
            result["lifetimes"] = {"seconds": round(wall, 2), **theirs}
        else:
            print("  lifetimes: skipped (set LIFETIMES_PYTHON to an interpreter with lifetimes installed)")
    return result
