"""Run loyalsim's benchmarks (``make bench``). Each benchmark measures its baseline in the
same run and prints ratios; results are also written to benchmarks/results/NAME.json.

Usage: python benchmarks/run.py [NAME ...] [--quick]
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "bench_validate",
    "bench_replay",
    "bench_fit",
    "bench_fit_file",
    "bench_response",
    "bench_simulate",
    "bench_scaleout",
    "bench_tuning",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    names = args.names or BENCHMARKS
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    for name in names:
        module = importlib.import_module(name if name.startswith("bench_") else f"bench_{name}")
        print(f"== {module.__name__}: {module.__doc__.strip().splitlines()[0]}")
        started = time.perf_counter()
        result = module.run(quick=args.quick)
        result["machine"] = {"python": platform.python_version(), "platform": platform.platform()}
        result["wall_seconds"] = round(time.perf_counter() - started, 2)
        (results_dir / f"{module.__name__}.json").write_text(json.dumps(result, indent=2) + "\n")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
