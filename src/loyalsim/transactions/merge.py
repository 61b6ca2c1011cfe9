"""Several transaction files replayed as one: customer ids unified, rows re-sorted."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from loyalsim.transactions.reader import Transactions, read_transactions, sort_transactions


def read_many(paths: list[Path], minor_units: int, column_map: dict[str, str]) -> Transactions:
    """Read each file and combine them into one sorted set of transactions."""
    parts = [read_transactions(path, minor_units, column_map) for path in paths]
    if len(parts) == 1:
        return parts[0]
    ids = np.unique(np.concatenate([p.customer_ids.astype(str) for p in parts]))
    customers = [np.searchsorted(ids, p.customer_ids.astype(str))[p.customer] for p in parts]

    def join(name: str) -> np.ndarray | None:
        values = [getattr(p, name) for p in parts]
        if all(v is None for v in values):
            return None
        return np.concatenate([v if v is not None else np.full(len(p), "", dtype=object)
                               for v, p in zip(values, parts, strict=True)])

    combined = Transactions(
        customer=np.concatenate(customers).astype(np.int64), customer_ids=ids.astype(object),
        day=np.concatenate([p.day for p in parts]), second=np.concatenate([p.second for p in parts]),
        amount=np.concatenate([p.amount for p in parts]), is_return=np.concatenate([p.is_return for p in parts]),
        transaction_id=join("transaction_id"), category=join("category"), channel=join("channel"),
        quantity=np.concatenate([p.quantity for p in parts]), row=np.concatenate([p.row for p in parts]),
        file=", ".join(p.file for p in parts), rejected=[e for p in parts for e in p.rejected],
        file_index=np.concatenate([np.full(len(p), i, dtype=np.int64) for i, p in enumerate(parts)]),
        files=tuple(p.file for p in parts),
    )
    return sort_transactions(combined)
