"""A members file: who enrolled in the program, and on which day (``fit response --members``).

Where: the transactions stage, beside the transaction reader. CSV or Parquet with a
``customer_id`` and an ``enrolled_on`` column (YYYY-MM-DD, a date or a timestamp; empty: never
enrolled), renamed with ``--members-column KEY=NAME``. ``simulate --transactions`` writes one.
Problems are refused with the row and column (exit 2): a missing column, a date that is not
one, a customer listed twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from loyalsim.errors import InputError

IntArray = npt.NDArray[np.int64]
NEVER = np.iinfo(np.int64).max
KEYS = ("customer_id", "enrolled_on")


@dataclass(frozen=True)
class MembersFile:
    path: Path
    ids: npt.NDArray[np.object_]  # customer ids as text, in file order
    day: IntArray  # enrolment day numbers (NEVER: not enrolled)
    rows: IntArray  # each entry's row in the file (CSV: the line, the header being line 1)


def read_members(path: Path, columns: dict[str, str] | None = None) -> MembersFile:
    """The members file at ``path`` (see the module docstring)."""
    import pyarrow.compute as pc

    names = {key: (columns or {}).get(key, key) for key in KEYS}
    unknown = sorted(set(columns or {}) - set(KEYS))
    if unknown:
        raise InputError(f"--members-column {unknown[0]}: the keys are customer_id and enrolled_on")
    table, first_row = _read(path, names)
    ids_column = table.column(names["customer_id"])
    ids = pc.utf8_trim_whitespace(pc.cast(ids_column, pa.string())).to_numpy(zero_copy_only=False)
    rows = np.arange(len(ids), dtype=np.int64) + first_row
    missing = np.flatnonzero([value is None or value == "" for value in ids])
    if missing.size:
        raise InputError(
            f"{path}: row {rows[missing[0]]}, column '{names['customer_id']}': no customer id; every row needs one"
        )
    day = _days(path, table.column(names["enrolled_on"]), names["enrolled_on"], rows)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    repeated = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
    if repeated.size:
        again, before = order[repeated[0] + 1], order[repeated[0]]
        raise InputError(
            f"{path}: row {rows[again]}, column '{names['customer_id']}': customer {ids[again]!r} is listed "
            f"again (first at row {rows[before]}); give each member once, with their first enrolment date"
        )
    return MembersFile(path, ids.astype(object), day, rows)


def _read(path: Path, names: dict[str, str]) -> tuple[pa.Table, int]:
    """The file as a table of text or dates, and the row number of its first entry."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from loyalsim.fileio import require_regular_file

    if not path.exists():
        raise InputError(f"{path}: no such file; give the members file (customer_id, enrolled_on)")
    require_regular_file(path, "the members file")
    parquet = path.name.lower().endswith((".parquet", ".pq"))
    try:
        if parquet:
            table, first_row = pq.read_table(path), 1
        else:
            text = {name: pa.string() for name in names.values()}
            options = pacsv.ConvertOptions(column_types=text, strings_can_be_null=False)
            table, first_row = pacsv.read_csv(path, convert_options=options), 2
    except (pa.ArrowInvalid, OSError) as exc:
        kind = "Parquet" if parquet else "CSV"
        raise InputError(f"{path}: cannot read as {kind}: {str(exc).splitlines()[0]}") from exc
    for key, name in names.items():
        if name not in table.column_names:
            raise InputError(
                f"{path}: no column {name!r} (it has: {', '.join(table.column_names)}); "
                f"name the {key} column with --members-column {key}=NAME"
            )
    return table, first_row


def _days(path: Path, column: pa.ChunkedArray, name: str, rows: IntArray) -> IntArray:
    """Enrolment dates as day numbers since 1970-01-01 (NEVER where empty)."""
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        dates = pc.cast(pc.cast(column, pa.date32()) if pa.types.is_timestamp(kind) else column, pa.date32())
        empty = np.asarray(pc.is_null(dates).to_numpy(zero_copy_only=False), dtype=bool)
        values = pc.cast(pc.fill_null(dates, pa.scalar(0, pa.date32())), pa.int32()).to_numpy(
            zero_copy_only=False
        )
        return np.where(empty, NEVER, values.astype(np.int64))
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise InputError(
            f"{path}: column {name!r} holds {kind} values; give dates (YYYY-MM-DD) or leave empty"
        )
    text = pc.utf8_trim_whitespace(column)
    empty = np.asarray(pc.fill_null(pc.equal(text, ""), True).to_numpy(zero_copy_only=False), dtype=bool)
    parsed = pc.strptime(
        pc.if_else(pc.equal(text, ""), "1970-01-01", text), format="%Y-%m-%d", unit="s", error_is_null=True
    )
    bad = np.flatnonzero(np.asarray(pc.is_null(parsed).to_numpy(zero_copy_only=False), dtype=bool) & ~empty)
    if bad.size:
        shown = text[int(bad[0])].as_py()
        raise InputError(
            f"{path}: row {rows[bad[0]]}, column {name!r}: {shown!r} is not a date; write YYYY-MM-DD "
            "(or leave it empty for a customer who never enrolled)"
        )
    values = pc.cast(pc.cast(parsed, pa.date32()), pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(empty, NEVER, values)
