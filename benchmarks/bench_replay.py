"""Replay speed: `loyalsim earn` on 10M transactions of 1M customers over a year, with a
tiered points program with expiry, against a straightforward per-row pure-Python
implementation of the same program (the baseline, written here) on the same file.

The baseline replays the very file loyalsim replays (equal work: the same rows, the same
monthly table), and must agree exactly with loyalsim's totals (earned, redeemed, expired,
outstanding): the benchmark checks it, so the ratio compares equal work. The baseline is
also timed on a 200,000-row sample, as before session 10, for reference: a per-row
implementation runs faster on a small file (small dicts, a short sort), so that figure
flatters it (benchmarks/README.md has both). Python's cycle collector is paused for the
baseline (with it, the baseline is only slower).
Targets: 10M rows < 10 s wall, < 2 GB peak memory, >= 30x the baseline's rows per second.
The baseline's run on 10M rows takes about three minutes and 4.4 GB.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from child import run_child
from replay_data import write_program, write_transactions

BIN = Path(sys.executable).parent


def baseline(program_rows: Path) -> tuple[dict[str, int], float, int]:
    """The benchmark program, one row at a time, producing the same monthly table as loyalsim:
    1 point per whole dollar x tier multiplier
    (member 1, silver 1.5 from $500, gold 2 from $1,500 of spend in the calendar year,
    upgrades immediate), points expire 90 days after earning (at the end of day + 89),
    500 points are auto-redeemed at the end of each day the balance allows, FIFO."""
    started = time.perf_counter()
    with program_rows.open() as handle:
        rows = [
            (r["customer_id"], dt.date.fromisoformat(r["date"]), round(float(r["amount"]) * 100))
            for r in csv.DictReader(handle)
        ]
    # loyalsim's documented order: by day; a customer's purchases of one day by amount.
    rows.sort(key=lambda r: (r[1], r[0], r[2]))
    spend: dict[str, int] = collections.defaultdict(int)
    lots: dict[str, collections.deque[list[int]]] = collections.defaultdict(collections.deque)
    balance: dict[str, int] = collections.defaultdict(int)
    expiring: dict[int, list[tuple[str, list[int]]]] = collections.defaultdict(list)
    totals = {"earned": 0, "redeemed": 0, "expired": 0}
    day_index = {}
    # The same output as loyalsim: per customer per month, earned, redeemed, expired, balance, tier.
    month_rows: list[tuple[str, str, int, int, int, int, str]] = []
    month_earned: dict[str, int] = collections.defaultdict(int)
    month_redeemed: dict[str, int] = collections.defaultdict(int)
    month_expired: dict[str, int] = collections.defaultdict(int)

    def tier_of(customer: str) -> str:
        value = spend[customer]
        return "gold" if value >= 150_000 else "silver" if value >= 50_000 else "member"

    def record_month(day: int) -> None:
        label = dt.date.fromordinal(day).strftime("%Y-%m")
        for customer in spend:
            month_rows.append(
                (
                    customer,
                    label,
                    month_earned[customer],
                    month_redeemed[customer],
                    month_expired[customer],
                    balance[customer],
                    tier_of(customer),
                )
            )
        month_earned.clear()
        month_redeemed.clear()
        month_expired.clear()

    def close(day: int, touched: set[str]) -> None:
        for customer in sorted(touched):
            while balance[customer] >= 500:
                take = 500
                queue = lots[customer]
                while take:
                    lot = queue[0]
                    used = min(take, lot[0])
                    lot[0] -= used
                    take -= used
                    if lot[0] == 0:
                        queue.popleft()
                balance[customer] -= 500
                totals["redeemed"] += 500
                month_redeemed[customer] += 500
        for customer, lot in expiring.pop(day, []):
            if lot[0]:
                totals["expired"] += lot[0]
                month_expired[customer] += lot[0]
                balance[customer] -= lot[0]
                lot[0] = 0
                queue = lots[customer]
                while queue and queue[0][0] == 0:
                    queue.popleft()
        if (dt.date.fromordinal(day) + dt.timedelta(days=1)).day == 1:
            record_month(day)

    current: int | None = None
    touched: set[str] = set()
    for customer, date, cents in rows:
        day = day_index.setdefault(date, date.toordinal())
        if current is not None and day != current:
            for closing in range(current, day):
                close(closing, touched if closing == current else set())
            touched = set()
        current = day
        dollars = cents // 100
        level_spend = spend[customer]
        multiplier = (2, 1) if level_spend >= 150_000 else (3, 2) if level_spend >= 50_000 else (1, 1)
        points = dollars * multiplier[0] // multiplier[1]
        spend[customer] = level_spend + cents
        totals["earned"] += points
        month_earned[customer] += points
        if points:
            lot = [points]
            lots[customer].append(lot)
            balance[customer] += points
            expiring[day + 89].append((customer, lot))
        touched.add(customer)
    if current is not None:
        last = current
        end = dt.date.fromordinal(last)
        month_end = (end.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        for closing in range(last, month_end.toordinal() + 1):
            close(closing, touched if closing == last else set())
    totals["outstanding"] = sum(balance.values())
    assert month_rows, "the baseline produced its monthly table"
    return totals, time.perf_counter() - started, len(rows)


def _totals(path: Path, program: Path) -> dict[str, int]:
    result = subprocess.run(
        [str(BIN / "loyalsim"), "earn", str(program), str(path), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    totals = json.loads(result.stdout)["totals"]
    return {key: int(totals[key]) for key in ("earned", "redeemed", "expired")} | {
        "outstanding": int(totals["balance"])
    }


def _totals_of_file(path: Path) -> dict[str, int]:
    """The totals of a `loyalsim earn` per-customer totals file (Parquet), summed."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    sums = {
        name: int(table.column(name).to_numpy().sum())
        for name in ("earned", "redeemed", "expired", "balance")
    }
    return {key: sums[key] for key in ("earned", "redeemed", "expired")} | {"outstanding": sums["balance"]}


def _baseline_on(path: Path, expected: dict[str, int], what: str) -> tuple[float, int]:
    """The baseline's wall time and rows on ``path``, after checking its totals against loyalsim's."""
    gc.collect()  # (the previous run's garbage: not the baseline's to collect)
    gc.disable()  # (the baseline only gains from it)
    try:
        got, wall, rows = baseline(path)
    finally:
        gc.enable()
    if got != expected:
        raise RuntimeError(f"baseline and loyalsim disagree on {what}: {got} vs {expected}")
    return wall, rows


def run(quick: bool = False) -> dict[str, Any]:
    rows = 1_000_000 if quick else 10_000_000
    customers = rows // 10
    sample_rows = 100_000 if quick else 200_000
    out: dict[str, Any] = {"rows": rows, "customers": customers, "sample_rows": sample_rows}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        program = write_program(folder)
        big, sample = folder / "big.csv", folder / "sample.csv"
        write_transactions(big, rows, customers, seed=1)
        write_transactions(sample, sample_rows, sample_rows // 10, seed=2)
        # The timed runs read files written a moment ago: let the system finish writing them
        # back to disk first, so that its flushing does not compete with either replay.
        os.sync()
        # The first run after installing compiles the kernels (cached on disk): do it on the sample
        # first, so that the timed run below is what every later run costs.
        first_started = time.perf_counter()
        sample_expected = _totals(sample, program)
        out["first_sample_run_s"] = round(time.perf_counter() - first_started, 2)
        wall, rss, _ = run_child(
            [
                str(BIN / "loyalsim"),
                "earn",
                str(program),
                str(big),
                "--format",
                "parquet",
                "--out",
                str(folder / "out.parquet"),
            ]
        )
        out.update(
            loyalsim_wall_s=round(wall, 2),
            loyalsim_peak_rss_gb=round(rss / 2**30, 2),
            loyalsim_rows_per_s=round(rows / wall),
        )
        expected = _totals_of_file(folder / "out.totals.parquet")
        base_wall, base_rows = _baseline_on(big, expected, "the same file")
        sample_wall, sample_count = _baseline_on(sample, sample_expected, "the sample")
        out.update(
            baseline_wall_s=round(base_wall, 2),
            baseline_rows_per_s=round(base_rows / base_wall),
            sample_baseline_wall_s=round(sample_wall, 2),
            sample_baseline_rows_per_s=round(sample_count / sample_wall),
            totals=expected,
        )
    ratio = out["loyalsim_rows_per_s"] / out["baseline_rows_per_s"]
    sample_ratio = out["loyalsim_rows_per_s"] / out["sample_baseline_rows_per_s"]
    out["speedup_vs_baseline"] = round(ratio, 1)
    out["speedup_vs_sample_baseline"] = round(sample_ratio, 1)
    out["targets"] = {
        "wall_under_10s": wall < 10 if rows == 10_000_000 else None,
        "peak_under_2gb": rss < 2 * 2**30,
        "speedup_30x": ratio >= 30,
    }
    print(
        f"loyalsim earn: {rows:,} rows, {customers:,} customers: {wall:.1f} s wall "
        f"({out['loyalsim_rows_per_s']:,} rows/s), peak {rss / 2**30:.2f} GB"
    )
    print(
        f"baseline (pure Python, per row) on the same file: {base_rows:,} rows in {base_wall:.1f} s "
        f"({out['baseline_rows_per_s']:,} rows/s); totals identical to loyalsim's"
    )
    print(
        f"baseline on a {sample_count:,}-row sample, for reference: {sample_wall:.2f} s "
        f"({out['sample_baseline_rows_per_s']:,} rows/s; loyalsim {sample_ratio:.1f}x that rate)"
    )
    print(
        f"speed-up on the same file: {ratio:.1f}x rows per second   targets: < 10 s: "
        f"{'met' if wall < 10 else 'MISSED'}; < 2 GB: {'met' if rss < 2 * 2**30 else 'MISSED'}; "
        f">= 30x: {'met' if ratio >= 30 else 'MISSED'}"
    )
    return out
