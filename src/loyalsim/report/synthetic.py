"""Synthetic transactions out of the simulator: ``simulate --transactions DIR``.

Where: the report stage. Writes what ``loyalsim earn``, ``fit purchases`` and ``fit response``
read: ``transactions.{csv,parquet}`` (customer_id, date, amount, and category and channel
when the scenario draws a basket) and ``members.{csv,parquet}`` (customer_id, enrolled_on).
Amounts are in the currency's units (minor units over the currency's scale: 12.34), which
the readers turn back into the same minor units exactly. Each file is written to a temporary
file and renamed, all of them together (``fileio.output_set``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from loyalsim.simulate.results import Synthetic

FORMATS = ("csv", "parquet")


def tables(synthetic: Synthetic, minor_units: int) -> tuple[pa.Table, pa.Table]:
    """The purchases and the members as Arrow tables."""
    ids = synthetic.ids
    columns: dict[str, pa.Array] = {
        "customer_id": pa.array(ids[synthetic.customer].astype(str), type=pa.string()),
        "date": pa.array(synthetic.day.astype(np.int32), type=pa.int32()).cast(pa.date32()),
        "amount": pa.array(synthetic.amount / minor_units, type=pa.float64()),
    }
    for name, codes, names in (
        ("category", synthetic.category, synthetic.categories),
        ("channel", synthetic.channel, synthetic.channels),
    ):
        if codes is None or names.size == 0:
            continue
        # Codes into the names as a dictionary column (-1: this purchase's segment has no mix).
        labels = pa.DictionaryArray.from_arrays(
            pa.array(codes.astype(np.int32), mask=codes < 0), pa.array(names.astype(str))
        )
        columns[name] = labels.cast(pa.string())
    members = pa.table(
        {
            "customer_id": pa.array(ids[synthetic.members].astype(str), type=pa.string()),
            "enrolled_on": pa.array(synthetic.enrolled_on.astype(np.int32), type=pa.int32()).cast(
                pa.date32()
            ),
        }
    )
    return pa.table(columns), members


def write(folder: Path, synthetic: Synthetic, minor_units: int, file_format: str) -> dict[str, Path]:
    """``transactions`` and ``members`` in ``folder`` as CSV or Parquet; their paths."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from loyalsim.fileio import atomic_path, output_set

    purchases, members = tables(synthetic, minor_units)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.{file_format}" for name in ("transactions", "members")}
    with output_set():
        for name, table in (("transactions", purchases), ("members", members)):
            with atomic_path(paths[name]) as temporary:
                if file_format == "parquet":
                    pq.write_table(table, temporary)
                else:
                    pacsv.write_csv(table, temporary)
    return paths
