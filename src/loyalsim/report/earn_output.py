"""Outputs of ``loyalsim earn``: monthly rows per customer as CSV, Parquet or JSON.

Columns (CSV and Parquet): ``customer_id``; ``month`` (YYYY-MM); ``earned`` (points
issued that month, net of returns); ``redeemed``; ``expired``; ``balance`` (points held
at month end; negative when a return took back points already spent); ``tier`` (at month
end; empty without tiers); and, when the program has them, ``cashback`` and
``dividend`` (money accrued that month, in the program's currency). Points are whole
numbers unless the program's points have decimals. A second table,
``<out>.totals.<ext>``, holds per-customer totals.

CSV and Parquet are written month by month to a temporary file that replaces ``--out``
only when the replay succeeded, so a failed run never leaves a partial file.
"""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa

from loyalsim import __version__
from loyalsim.compile.calendar import month_label
from loyalsim.compile.policy import Policy
from loyalsim.replay.engine import MonthRows, ReplayResult

# Decimal columns are decimal128(18, d): up to 18 digits fit Parquet's INT64 physical type,
# which every reader maps back to a decimal.
_DECIMAL_DIGITS = 18


def _scaled(units: Any, decimals: int) -> pa.Array:
    """Integer units → int64 (decimals 0) or an exact decimal column of the same units.

    A decimal128 of scale ``d`` stores the unscaled integer, which is exactly our integer
    units, so the column is built from them directly (128-bit little-endian two's complement):
    no arithmetic, nothing that depends on how a pyarrow release sizes a product's precision.
    """
    values = np.ascontiguousarray(units, dtype=np.int64)
    array = pa.array(values)
    if decimals == 0:
        return array
    if values.size and int(np.abs(values).max()) >= 10**_DECIMAL_DIGITS:
        raise ValueError(
            f"a figure of {int(np.abs(values).max()):,} units has more than {_DECIMAL_DIGITS} digits"
        )
    words = np.empty((values.size, 2), dtype="<i8")
    words[:, 0] = values
    words[:, 1] = values >> 63  # the sign, extended into the high word
    return pa.Array.from_buffers(
        pa.decimal128(_DECIMAL_DIGITS, decimals), values.size, [None, pa.py_buffer(words.tobytes())]
    )


def _columns(policy: Policy) -> list[str]:
    columns = ["customer_id", "month", "earned", "redeemed", "expired", "balance", "tier"]
    if policy.cashback is not None:
        columns.append("cashback")
    if policy.value is not None and policy.value.dividend is not None:
        columns.append("dividend")
    return columns


def month_table(
    policy: Policy, customer_ids: pa.Array, rows: MonthRows, span: tuple[int, int] | None = None
) -> pa.Table:
    """One month's rows. Text columns are dictionary-encoded over shared tables (all customer
    ids, the months, the tier ids), so no string is copied per row; CSV writers decode them.
    Rows of a run of consecutive customers (every customer once all have started) take their
    ids as a slice of ``customer_ids`` instead: plain text, no copy, nothing to decode.

    ``span``: the first and last month of the whole output. Every month's table then shares
    one dictionary of month labels, so a reader can group or filter the months of a file
    (Arrow refuses to combine chunks whose dictionaries differ). None: this month alone.
    """
    decimals = policy.points.decimals
    tiers = pa.array(policy.tier_ids() or [""])
    size = rows.customer.size
    first, last = span if span is not None else (rows.month, rows.month)
    labels = pa.array([month_label(m) for m in range(first, last + 1)])
    # Customers come in increasing order, so first and last a size apart means every one between.
    run = size > 0 and int(rows.customer[-1]) - int(rows.customer[0]) + 1 == size
    data: dict[str, pa.Array] = {
        "customer_id": customer_ids.slice(int(rows.customer[0]), size)
        if run
        else pa.DictionaryArray.from_arrays(pa.array(rows.customer.astype(np.int32)), customer_ids),
        "month": pa.DictionaryArray.from_arrays(
            pa.array(np.full(size, rows.month - first, dtype=np.int32)), labels
        ),
        "earned": _scaled(rows.earned, decimals),
        "redeemed": _scaled(rows.redeemed, decimals),
        "expired": _scaled(rows.expired, decimals),
        "balance": _scaled(rows.balance, decimals),
        "tier": pa.DictionaryArray.from_arrays(
            pa.array((rows.tier if policy.tiers else np.zeros(size, dtype=np.int64)).astype(np.int32)), tiers
        ),
    }
    if "cashback" in _columns(policy):
        data["cashback"] = _scaled(rows.cashback, policy.minor_units)
    if "dividend" in _columns(policy):
        data["dividend"] = _scaled(rows.dividend, policy.minor_units)
    return _required(pa.table(data))


def _required(table: pa.Table) -> pa.Table:
    """``table`` with every column marked as never null (so they are in the file: Parquet
    then stores no definition level per value)."""
    schema = pa.schema([field.with_nullable(False) for field in table.schema])
    return pa.Table.from_arrays(table.columns, schema=schema)


def totals_table(result: ReplayResult, customer_ids: pa.Array | None = None) -> pa.Table:
    """Per-customer totals of the customers who started. ``customer_ids``: the ids as Arrow text,
    when the caller has them already (as for the month tables); else made from the result's."""
    who = np.flatnonzero(result.started)
    decimals = result.policy.points.decimals
    if customer_ids is None:
        ids = pa.array(result.customer_ids[who], type=pa.string())  # (much faster than via astype(str))
    else:
        ids = customer_ids if who.size == len(customer_ids) else customer_ids.take(pa.array(who))
    return _required(
        pa.table(
            {
                "customer_id": ids,
                "earned": _scaled(result.total_earned[who], decimals),
                "redeemed": _scaled(result.total_redeemed[who], decimals),
                "expired": _scaled(result.total_expired[who], decimals),
                "balance": _scaled(result.balance[who] - result.debt[who], decimals),
            }
        )
    )


class TableWriter:
    """Streams tables of one schema into CSV or Parquet at a temporary path (or a stream).

    Tables are encoded and written on a background thread (pyarrow releases the GIL while it
    writes), one table at a time and in order, so writing overlaps with computing the next
    months. :meth:`write` returns at once while fewer than ``queue`` tables wait to be
    written (else it waits for the oldest), so at most ``queue + 1`` are held in memory; a
    writing error is raised by a later :meth:`write` or by :meth:`close`. A queue of a few
    tables matters when several replay engines end a month at once: without it each waits
    for the one before it to be written.
    """

    def __init__(self, fmt: str, target: Path | IO[bytes], queue: int = 3) -> None:
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor

        self.fmt = fmt
        self.target = target
        self.writer: Any = None
        self.queue = max(queue, 1)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loyalsim-writer")
        self._pending: deque[Future[None]] = deque()

    def write(self, table: pa.Table) -> None:
        while len(self._pending) >= self.queue or (self._pending and self._pending[0].done()):
            self._pending.popleft().result()
        self._pending.append(self._thread.submit(self._write, table))

    def _wait(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def _write(self, table: pa.Table) -> None:
        if self.fmt != "parquet":
            table = _decoded(table)
        else:
            table = _decoded(table, only="customer_id")
            if self.writer is not None and table.schema != self.writer.schema:
                table = table.cast(self.writer.schema)
        if self.writer is None:
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                # Customer ids are written as text, not dictionary-encoded (a dictionary page of
                # every id in every row group doubled the writing time), and prefix-compressed:
                # ids in order share most of their bytes (a million ids: 0.17 MB instead of 4.6 MB,
                # as fast; Arrow cannot read that encoding back into a dictionary type, so the
                # column is plain text in the file's schema too). Whole-number columns
                # are delta-encoded: half the size and half the writing time of plain values with
                # snappy (a million rows of points: 6.5 vs 13 MB, 39 vs 78 ms). Only the month
                # column has statistics, the one a reader filters row groups by (each holds one
                # month; every id and tier spans them all): computing them for every column was
                # a third of the writing time (12M rows: 1.7 s of CPU, 1.2 s without).
                encoded = [
                    f.name for f in table.schema if pa.types.is_dictionary(f.type) and f.name != "customer_id"
                ]
                delta = {f.name: "DELTA_BINARY_PACKED" for f in table.schema if pa.types.is_integer(f.type)}
                if "customer_id" in table.schema.names:
                    delta["customer_id"] = "DELTA_BYTE_ARRAY"
                stats = [name for name in ("month",) if name in table.schema.names]
                self.writer = pq.ParquetWriter(
                    self.target,
                    table.schema,
                    compression="snappy",
                    use_dictionary=encoded or False,
                    column_encoding=delta or None,
                    write_statistics=stats or False,
                )
            else:
                import pyarrow.csv as pacsv

                self.writer = pacsv.CSVWriter(self.target, table.schema)
        self.writer.write_table(table)

    def close(self, empty_schema: pa.Schema | None = None) -> None:
        try:
            self._wait()
            if self.writer is None and empty_schema is not None:
                self._write(empty_schema.empty_table())
            if self.writer is not None:
                self.writer.close()
        finally:
            self._thread.shutdown(wait=True)

    def abandon(self) -> None:
        """Stop after an error elsewhere: let a table being written finish, close, keep no error."""
        with contextlib.suppress(Exception):
            self._wait()
        with contextlib.suppress(Exception):
            if self.writer is not None:
                self.writer.close()
        self._thread.shutdown(wait=True)


def _decoded(table: pa.Table, only: str | None = None) -> pa.Table:
    """Plain string columns in place of dictionary-encoded ones (for CSV; ``only``: that column)."""
    columns = [
        c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) and only in (None, name) else c
        for name, c in zip(table.column_names, table.columns, strict=True)
    ]
    schema = pa.schema([field.with_type(c.type) for field, c in zip(table.schema, columns, strict=True)])
    return pa.Table.from_arrays(columns, schema=schema)


def number(units: int, decimals: int) -> int | str:
    """A points or money figure for JSON: an integer, or an exact decimal string."""
    if decimals == 0:
        return int(units)
    return format(Decimal(int(units)).scaleb(-decimals), "f")


def render_json(result: ReplayResult, *, program_file: str, transactions: list[str]) -> str:
    """The whole replay as one JSON object (``customers``, ``totals``, provenance)."""
    policy = result.policy
    decimals = policy.points.decimals
    tier_ids = policy.tier_ids()
    months_by_customer: dict[int, list[dict[str, Any]]] = {}
    for rows in result.months:
        label = month_label(rows.month)
        for i, customer in enumerate(rows.customer.tolist()):
            item: dict[str, Any] = {
                "month": label,
                "earned": number(rows.earned[i], decimals),
                "redeemed": number(rows.redeemed[i], decimals),
                "expired": number(rows.expired[i], decimals),
                "balance": number(rows.balance[i], decimals),
                "tier": tier_ids[int(rows.tier[i])] if tier_ids else None,
            }
            if policy.cashback is not None:
                item["cashback"] = number(rows.cashback[i], policy.minor_units)
            if policy.value is not None and policy.value.dividend is not None:
                item["dividend"] = number(rows.dividend[i], policy.minor_units)
            months_by_customer.setdefault(customer, []).append(item)
    customers = []
    for customer in np.flatnonzero(result.started).tolist():
        customers.append(
            {
                "customer_id": str(result.customer_ids[customer]),
                "months": months_by_customer.get(customer, []),
                "total": {
                    "earned": number(result.total_earned[customer], decimals),
                    "redeemed": number(result.total_redeemed[customer], decimals),
                    "expired": number(result.total_expired[customer], decimals),
                },
            }
        )
    started = result.started
    balance = result.balance - result.debt
    payload = {
        "loyalsim": __version__,
        "program": {"name": policy.name, "file": program_file, "content_hash": policy.content_hash},
        "transactions": transactions,
        "points": policy.points.name,
        "customers": customers,
        "totals": {
            "customers": int(started.sum()),
            "rows": result.rows,
            "rejected_rows": len(result.rejected),
            "earned": number(result.total_earned.sum(), decimals),
            "redeemed": number(result.total_redeemed.sum(), decimals),
            "expired": number(result.total_expired.sum(), decimals),
            "balance": number(balance[started].sum(), decimals),
        },
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
