"""Several transaction files replayed as one: ids and text codes unified, rows re-sorted."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from loyalsim.transactions.reader import (
    IntArray,
    ObjArray,
    Transactions,
    read_transactions,
    sort_transactions,
)


def _unify(parts: list[Transactions], codes: str, values: str) -> tuple[IntArray | None, ObjArray]:
    """Re-code a text column of several parts into one sorted table of values."""
    tables = [getattr(p, values) for p in parts]
    union = (
        np.unique(np.concatenate([t.astype(str) for t in tables]))
        if any(t.size for t in tables)
        else np.zeros(0, dtype=str)
    )
    if all(getattr(p, codes) is None for p in parts):
        return None, union.astype(object)
    recoded = []
    for part, table in zip(parts, tables, strict=True):
        local = getattr(part, codes)
        if local is None:
            recoded.append(np.full(len(part), -1, dtype=np.int64))
            continue
        mapping = np.searchsorted(union, table.astype(str)).astype(np.int64)
        recoded.append(np.where(local >= 0, mapping[np.maximum(local, 0)] if mapping.size else -1, -1))
    return np.concatenate(recoded), union.astype(object)


def read_many(paths: list[Path], minor_units: int, column_map: dict[str, str]) -> Transactions:
    """Read each file and combine them into one sorted set of transactions."""
    return combine([read_transactions(path, minor_units, column_map) for path in paths])


def combine(parts: list[Transactions]) -> Transactions:
    """Several sets of transactions as one, with id and code tables unified, sorted by day."""
    if len(parts) == 1:
        return parts[0]
    files: list[str] = []
    indices = []
    for part in parts:
        own = part.files or (part.file,)
        local = part.file_index if part.file_index is not None else np.zeros(len(part), dtype=np.int64)
        indices.append(local + len(files))
        files += own
    customer, ids = _unify(parts, "customer", "customer_ids")
    assert customer is not None
    tid, tids = _unify(parts, "transaction_id", "transaction_ids")
    category, categories = _unify(parts, "category", "categories")
    channel, channels = _unify(parts, "channel", "channels")
    combined = Transactions(
        customer=customer,
        customer_ids=ids,
        day=np.concatenate([p.day for p in parts]),
        second=np.concatenate([p.second for p in parts]),
        amount=np.concatenate([p.amount for p in parts]),
        is_return=np.concatenate([p.is_return for p in parts]),
        transaction_id=tid,
        category=category,
        channel=channel,
        quantity=np.concatenate([p.quantity for p in parts]),
        row=np.concatenate([p.row for p in parts]),
        file=", ".join(dict.fromkeys(files)),
        rejected=[e for p in parts for e in p.rejected],
        file_index=np.concatenate(indices),
        files=tuple(files),
        transaction_ids=tids,
        categories=categories,
        channels=channels,
    )
    return sort_transactions(combined)
