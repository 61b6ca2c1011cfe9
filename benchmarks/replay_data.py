"""Synthetic transaction files for the replay benchmark (deterministic from a seed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

PROGRAM = """\
apiVersion: loyalsim/v1
kind: Program
metadata: {name: bench-tiered, currency: USD}
type: tiered
points: {name: points, value: 0.01, rounding: floor_amount}
earn:
  - {id: base, kind: spend, rate: 1}
tiers:
  metric: spend
  window: {kind: calendar_year}
  levels:
    - {id: member, threshold: 0}
    - {id: silver, threshold: 500, benefits: {earn_multiplier: 1.5}}
    - {id: gold, threshold: 1500, benefits: {earn_multiplier: 2}}
rewards:
  catalog: [{id: five, kind: discount, cost: 500, face_value: 5}]
  redemption: {policy: auto, default: five}
expiry:
  - {kind: rolling, after: 90 days}
"""


def write_program(folder: Path) -> Path:
    path = folder / "bench-tiered.yaml"
    path.write_text(PROGRAM)
    return path


def write_transactions(path: Path, rows: int, customers: int, seed: int = 1) -> None:
    """``rows`` purchases by ``customers`` customers over 2027, written as CSV in chunks."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2027-01-01")
    chunk = 2_000_000
    schema = pa.schema([("customer_id", pa.string()), ("date", pa.string()), ("amount", pa.string())])
    with pacsv.CSVWriter(str(path), schema, write_options=pacsv.WriteOptions(quoting_style="none")) as writer:
        for offset in range(0, rows, chunk):
            size = min(chunk, rows - offset)
            customer = rng.integers(0, customers, size)
            day = rng.integers(0, 365, size)
            cents = np.maximum(1, np.rint(rng.gamma(2.0, 25.0, size) * 100)).astype(np.int64)
            ids = np.char.add("c", np.char.zfill(customer.astype(str), 7))
            dates = (start + day).astype(str)
            amounts = np.char.add(
                np.char.add((cents // 100).astype(str), "."), np.char.zfill((cents % 100).astype(str), 2)
            )
            writer.write_table(
                pa.table({"customer_id": ids, "date": dates, "amount": amounts}, schema=schema)
            )
