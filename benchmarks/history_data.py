"""Synthetic transaction histories drawn from BG/NBD and Gamma-Gamma (deterministic from a seed).

Each customer's first purchase falls uniformly in the first year; purchase rates are
Gamma(r, alpha) per week, dropout after each repeat purchase Beta(a, b), amounts Gamma-Gamma with
a spend scale per customer. The models the fits assume hold by construction, so a fit's
speed is measured on data it can fit (a file of uniformly scattered purchases has no
heterogeneity and drives BG/NBD's r to infinity).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

BGNBD = (0.5, 6.0, 0.9, 3.0)  # r, alpha (weeks), a, b
BUSY = (0.5, 1.5, 0.5, 5.0)  # about ten purchases a customer over 18 months
GAMMA_GAMMA = (6.0, 4.0, 15.0)  # p, q, gamma
START = np.datetime64("2026-01-01")


def draw(
    customers: int, days: int = 548, seed: int = 1, bgnbd: tuple[float, float, float, float] = BGNBD
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer, day, cents) of every purchase, sorted by day: ``customers`` customers over
    ``days`` days (about three purchases a customer with the default parameters, ten with
    BUSY)."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = bgnbd
    p, q, gamma = GAMMA_GAMMA
    rate = rng.gamma(r, 1 / alpha, customers) / 7  # purchases per day
    dropout = rng.beta(a, b, customers)
    scale = rng.gamma(q, 1 / gamma, customers)  # Gamma-Gamma: nu, the spend's rate parameter
    first = rng.integers(0, 365, customers).astype(np.float64)
    who, when = [np.arange(customers)], [first]
    clock, alive = first.copy(), np.ones(customers, dtype=bool)
    repeat = False
    while alive.any():
        if repeat:  # inactive after a repeat purchase with probability p (never after the first)
            alive &= rng.random(customers) >= dropout
        repeat = True
        clock = clock + rng.exponential(1.0, customers) / np.maximum(rate, 1e-12)
        alive &= clock < days
        who.append(np.flatnonzero(alive))
        when.append(clock[alive])
    customer = np.concatenate(who)
    day = np.floor(np.concatenate(when)).astype(np.int64)
    cents = np.maximum(1, np.rint(rng.gamma(p, 1 / scale[customer]) * 100)).astype(np.int64)
    order = np.argsort(day, kind="stable")
    return customer[order], day[order], cents[order]


def write(
    path: Path,
    customers: int,
    days: int = 548,
    seed: int = 1,
    bgnbd: tuple[float, float, float, float] = BGNBD,
) -> int:
    """Write the history as CSV (customer_id, date, amount); returns its rows."""
    customer, day, cents = draw(customers, days, seed, bgnbd)
    schema = pa.schema([("customer_id", pa.string()), ("date", pa.string()), ("amount", pa.string())])
    chunk = 2_000_000
    with pacsv.CSVWriter(str(path), schema, write_options=pacsv.WriteOptions(quoting_style="none")) as writer:
        for offset in range(0, customer.size, chunk):
            part = slice(offset, offset + chunk)
            ids = np.char.add("c", np.char.zfill(customer[part].astype(str), 7))
            dates = (START + day[part]).astype(str)
            c = cents[part]
            amounts = np.char.add(
                np.char.add((c // 100).astype(str), "."), np.char.zfill((c % 100).astype(str), 2)
            )
            writer.write_table(
                pa.table({"customer_id": ids, "date": dates, "amount": amounts}, schema=schema)
            )
    return int(customer.size)
