"""Reading transaction files with pyarrow: columnar, validated row by row, sorted.

Columns: ``customer_id``, ``date``, ``amount`` (required); ``transaction_id``,
``category``, ``channel``, ``kind`` (``purchase`` or ``return``), ``quantity``
(optional). ``column_map`` renames source headers (``--column amount=total``).

Rows are numbered as in a spreadsheet: the header is row 1, the first data row is row 2.
Amounts are rounded to the currency's minor unit (half-even) — exports often carry float
artefacts such as 12.3399999. Dates are ``YYYY-MM-DD``, ``YYYYMMDD`` or ISO date-times.

Order: transactions are sorted by date and time; ties are broken by purchases before
returns, then transaction id, customer id, amount, category and channel — never by the
position in the file, so the result does not depend on the order of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from loyalsim.errors import InputError, UsageError
from loyalsim.issues import Issue, Severity

REQUIRED = ("customer_id", "date", "amount")
OPTIONAL = ("transaction_id", "category", "channel", "kind", "quantity")
IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]

_AMOUNT = r"^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
_EPOCH_S = np.datetime64("1970-01-01T00:00:00", "s")


@dataclass(frozen=True)
class RowError:
    """A rejected row: where (row, column), what was there, and why."""

    file: str
    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        shown = self.value if len(self.value) <= 40 else self.value[:37] + "..."
        return f"{self.file}: row {self.row}, column '{self.column}': {self.message} (value: {shown!r})"

    def to_issue(self) -> Issue:
        return Issue("LS401", Severity.ERROR, f"row {self.row}, column '{self.column}': {self.message}",
                     self.file, self.row, 1, (self.column,))


@dataclass
class Transactions:
    """Valid transactions, sorted, as numpy arrays of equal length."""

    customer: IntArray  # index into customer_ids
    customer_ids: ObjArray  # original ids (strings), sorted
    day: IntArray  # day number
    second: IntArray  # seconds into the day (0 for plain dates)
    amount: IntArray  # minor units, positive for purchases and returns alike
    is_return: npt.NDArray[np.bool_]
    transaction_id: ObjArray | None
    category: ObjArray | None
    channel: ObjArray | None
    quantity: IntArray
    row: IntArray  # source row number (header = row 1)
    file: str
    rejected: list[RowError]
    file_index: IntArray | None = None  # which of ``files`` each row came from (None: all from ``file``)
    files: tuple[str, ...] = ()

    def source(self, row: int) -> str:
        """The file a (sorted) row came from."""
        if self.file_index is None or not self.files:
            return self.file
        return self.files[int(self.file_index[row])]

    def __len__(self) -> int:
        return int(self.day.shape[0])


def _read_table(path: Path) -> pa.Table:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            table = pq.read_table(path)
            return table.cast(pa.schema([pa.field(f.name, pa.string()) for f in table.schema]))
        # Every column is read as text so that each value can be checked and located.
        header = pacsv.read_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16)).schema.names \
            if path.stat().st_size < (1 << 16) else None
        if header is None:
            with pacsv.open_csv(path) as reader:
                header = reader.schema.names
        return pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header},
                                                 strings_can_be_null=False),
        )
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise InputError(f"{path}: cannot read as {'Parquet' if name.endswith(('.parquet', '.pq')) else 'CSV'}: "
                         f"{str(exc).splitlines()[0]}") from exc


def _rename(table: pa.Table, column_map: dict[str, str], file: str) -> pa.Table:
    names = list(table.schema.names)
    for target, source in column_map.items():
        if target not in REQUIRED + OPTIONAL:
            raise UsageError(f"--column {target}={source}: unknown column {target!r}; "
                             f"known: {', '.join(REQUIRED + OPTIONAL)}")
        if source not in names:
            raise InputError(f"{file}: --column {target}={source}: the file has no column {source!r} "
                             f"(it has: {', '.join(names)})")
        names[names.index(source)] = target
    table = table.rename_columns(names)
    missing = [c for c in REQUIRED if c not in table.schema.names]
    if missing:
        raise InputError(f"{file}: missing column(s) {', '.join(missing)} (the file has: "
                         f"{', '.join(table.schema.names)}); map other headers with --column NAME=SOURCE")
    return table


def _parse_dates(column: pa.ChunkedArray) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]]:
    """Day numbers, seconds of day, and a validity mask."""
    text = pc.utf8_trim_whitespace(column)
    stamp = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    for fmt in ("%Y%m%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"):
        missing = pc.is_null(stamp)
        if not pc.any(missing).as_py():
            break
        stamp = pc.if_else(missing, pc.strptime(text, format=fmt, unit="s", error_is_null=True), stamp)
    valid = ~pc.is_null(stamp).to_numpy(zero_copy_only=False)
    seconds = pc.fill_null(stamp.cast(pa.int64()), 0).to_numpy()
    day, second = np.divmod(seconds, 86_400)
    return day.astype(np.int64), second.astype(np.int64), valid


def read_transactions(path: Path | str, minor_units: int = 2, column_map: dict[str, str] | None = None) -> Transactions:
    """Read, check and sort a transaction file; rows with problems go to ``rejected``."""
    file = str(path)
    table = _rename(_read_table(Path(path)), column_map or {}, file)
    n = table.num_rows
    errors: list[RowError] = []
    bad = np.zeros(n, dtype=bool)

    def column(name: str) -> pa.ChunkedArray | None:
        return table.column(name) if name in table.schema.names else None

    def reject(mask: npt.NDArray[np.bool_], name: str, message: str) -> None:
        new = mask & ~bad
        if not new.any():
            return
        values = column(name)
        for index in np.flatnonzero(new)[:1000]:
            value = values[int(index)].as_py() if values is not None else ""
            errors.append(RowError(file, int(index) + 2, name, "" if value is None else str(value), message))
        if new.sum() > 1000:
            errors.append(RowError(file, int(np.flatnonzero(new)[1000]) + 2, name, "",
                                   f"{int(new.sum()) - 1000} more rows with this problem"))
        bad[:] |= new

    customers = pc.utf8_trim_whitespace(column("customer_id"))
    reject(pc.equal(pc.utf8_length(customers), 0).to_numpy(zero_copy_only=False), "customer_id", "missing customer id")

    day, second, dates_ok = _parse_dates(column("date"))
    reject(~dates_ok, "date", "not a date (expected YYYY-MM-DD)")

    amount_text = pc.utf8_trim_whitespace(column("amount"))
    amount_ok = pc.match_substring_regex(amount_text, _AMOUNT).to_numpy(zero_copy_only=False)
    reject(~amount_ok, "amount", "not a number")
    amount_float = pc.cast(pc.if_else(pa.array(amount_ok), amount_text, "0"), pa.float64()).to_numpy()
    scaled = amount_float * (10**minor_units)
    reject(~np.isfinite(scaled) | (np.abs(scaled) > 1e15), "amount", "amount out of range")
    amount = np.rint(np.where(np.isfinite(scaled) & (np.abs(scaled) <= 1e15), scaled, 0)).astype(np.int64)

    kinds = column("kind")
    is_return = np.zeros(n, dtype=bool)
    if kinds is not None:
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(kinds))
        is_return = pc.equal(lowered, "return").to_numpy(zero_copy_only=False)
        known = is_return | pc.is_in(lowered, pa.array(["purchase", ""])).to_numpy(zero_copy_only=False)
        reject(~known, "kind", "kind must be 'purchase' or 'return'")
    reject((amount < 0) & ~is_return, "amount", "negative amount in a purchase; mark returns with kind=return")
    amount = np.abs(amount)

    quantity = np.ones(n, dtype=np.int64)
    quantities = column("quantity")
    if quantities is not None:
        q_text = pc.utf8_trim_whitespace(quantities)
        q_ok = pc.match_substring_regex(q_text, r"^[0-9]{1,9}$").to_numpy(zero_copy_only=False)
        empty = pc.equal(pc.utf8_length(q_text), 0).to_numpy(zero_copy_only=False)
        reject(~q_ok & ~empty, "quantity", "quantity must be a whole number")
        quantity = np.where(q_ok, pc.cast(pc.if_else(pa.array(q_ok), q_text, "1"), pa.int64()).to_numpy(), 1)

    ids = column("transaction_id")
    if is_return.any() and ids is None:
        first = int(np.flatnonzero(is_return & ~bad)[0]) if (is_return & ~bad).any() else None
        if first is not None:
            raise InputError(f"{file}: row {first + 2} is a return, but the file has no transaction_id column to "
                             "match returns to their purchases; add one (or map it with --column transaction_id=...)")

    keep = ~bad
    rows = np.flatnonzero(keep)

    def strings(col: pa.ChunkedArray | None) -> ObjArray | None:
        if col is None:
            return None
        values: ObjArray = np.asarray(pc.utf8_trim_whitespace(col).to_numpy(zero_copy_only=False), dtype=object)[rows]
        return values

    cust = np.asarray(customers.to_numpy(zero_copy_only=False), dtype=object)[rows]
    customer_ids, customer = np.unique(cust.astype(str), return_inverse=True)
    tid, cat, chan = strings(ids), strings(column("category")), strings(column("channel"))
    result = Transactions(
        customer=customer.astype(np.int64), customer_ids=customer_ids.astype(object), day=day[rows],
        second=second[rows], amount=amount[rows], is_return=is_return[rows], transaction_id=tid, category=cat,
        channel=chan, quantity=quantity[rows].astype(np.int64), row=rows.astype(np.int64) + 2, file=file,
        rejected=sorted(errors, key=lambda e: e.row),
    )
    return sort_transactions(result)


def _codes(values: ObjArray | None, size: int) -> IntArray:
    if values is None:
        return np.zeros(size, dtype=np.int64)
    _, inverse = np.unique(values.astype(str), return_inverse=True)
    codes: IntArray = inverse.astype(np.int64)
    return codes


def sort_transactions(t: Transactions) -> Transactions:
    """Sort by the documented order (see the module docstring)."""
    n = len(t)
    keys = [_codes(t.channel, n), _codes(t.category, n), t.amount, t.customer, _codes(t.transaction_id, n),
            t.is_return.astype(np.int64), t.second, t.day]
    order = np.lexsort(keys)

    def take(values: Any) -> Any:
        return None if values is None else values[order]

    return Transactions(
        customer=t.customer[order], customer_ids=t.customer_ids, day=t.day[order], second=t.second[order],
        amount=t.amount[order], is_return=t.is_return[order], transaction_id=take(t.transaction_id),
        category=take(t.category), channel=take(t.channel), quantity=t.quantity[order], row=t.row[order],
        file=t.file, rejected=t.rejected, file_index=take(t.file_index), files=t.files,
    )
