"""Reading transaction files: columnar, validated row by row, sorted by day.

A plain CSV (the usual export) is read straight from its bytes (``plain_csv``); any other
CSV, and Parquet, with pyarrow. Both give the same result (``plain_csv`` says when a file
is plain).

Columns: ``customer_id``, ``date``, ``amount`` (required); ``transaction_id``,
``category``, ``channel``, ``kind`` (``purchase`` or ``return``), ``quantity``
(optional). ``column_map`` renames source headers (``--column amount=total``).

Rows are numbered as in a spreadsheet: the header is row 1, the first data row is row 2.
Amounts are rounded to the currency's minor unit (half-even) — exports often carry float
artefacts such as 12.3399999. Dates are ``YYYY-MM-DD``, ``YYYYMMDD`` or ISO date-times.

Order: transactions are processed day by day. A customer's transactions on one day are
taken by time, purchases before returns, then by transaction id, amount, category and
channel — never by their position in the file, so the result does not depend on the
order of rows. (Different customers never interact, so their relative order is moot.)
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from loyalsim.compiled import kernel, on_threads
from loyalsim.errors import InputError, UsageError
from loyalsim.fileio import require_regular_file
from loyalsim.money import NUMBER_PATTERN
from loyalsim.transactions.codes import encode, text_buffers
from loyalsim.transactions.plain_csv import PlainRead, header_names, read_plain_csv
from loyalsim.transactions.sniff import check_csv_start, locate_long_row, locate_not_utf8
from loyalsim.transactions.values import FLOAT, MAX_MINOR, NOT_A_NUMBER, OK, TOO_BIG, decimal_value

REQUIRED = ("customer_id", "date", "amount")
OPTIONAL = ("transaction_id", "category", "channel", "kind", "quantity")
IntArray = npt.NDArray[np.int64]
Ints = npt.NDArray[np.signedinteger[Any]]  # integers of any width (int32 days and codes)
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]


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
        where = f"{self.file}: row {self.row}, column '{self.column}': {self.message}"
        return where if self.message.startswith("missing") else f"{where} (value: {shown!r})"


@dataclass
class Transactions:
    """Valid transactions, sorted, as numpy arrays of equal length (read them; a column the
    file does not have may be a read-only view of one value)."""

    customer: IntArray  # index into customer_ids
    customer_ids: ObjArray  # original ids (strings), sorted
    day: IntArray  # day number
    second: IntArray  # seconds into the day (0 for plain dates)
    amount: IntArray  # minor units, positive for purchases and returns alike
    is_return: npt.NDArray[np.bool_]
    # Text columns are integer codes into sorted tables of their distinct values (-1: empty),
    # so that ten million rows never become ten million Python strings.
    transaction_id: IntArray | None
    category: IntArray | None
    channel: IntArray | None
    quantity: IntArray  # items per row (no such column: a read-only view of a single 1)
    row: npt.NDArray[np.signedinteger[Any]]  # source row number (header = row 1), int32
    file: str
    rejected: list[RowError]
    file_index: IntArray | None = None  # which of ``files`` each row came from (None: all from ``file``)
    files: tuple[str, ...] = ()
    transaction_ids: ObjArray = field(default_factory=lambda: np.zeros(0, dtype=object))
    categories: ObjArray = field(default_factory=lambda: np.zeros(0, dtype=object))
    channels: ObjArray = field(default_factory=lambda: np.zeros(0, dtype=object))

    PER_ROW = (
        "customer",
        "day",
        "second",
        "amount",
        "is_return",
        "transaction_id",
        "category",
        "channel",
        "quantity",
        "row",
        "file_index",
    )

    def subset(self, rows: IntArray | slice) -> Transactions:
        """The given rows (same id and code tables), without the rejected list."""
        import dataclasses

        cut = {name: getattr(self, name)[rows] for name in self.PER_ROW if getattr(self, name) is not None}
        return dataclasses.replace(self, rejected=[], **cut)

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
            _check_parquet_types(path, table.schema)
            return pa.table(
                [_as_text(table.column(i)) for i in range(table.num_columns)], names=table.schema.names
            )
        # Every column is read as text so that each value can be checked and located.
        header = (
            pacsv.read_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16)).schema.names
            if path.stat().st_size < (1 << 16)
            else None
        )
        if header is None:
            with pacsv.open_csv(path) as reader:
                header = reader.schema.names
        return pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header}, strings_can_be_null=False
            ),
        )
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        if name.endswith((".parquet", ".pq")):
            raise InputError(f"{path}: cannot read as Parquet: {str(exc).splitlines()[0]}") from exc
        raise InputError(_csv_problem(path, exc)) from exc


def _check_parquet_types(path: Path, schema: pa.Schema) -> None:
    """Refuse Parquet columns that hold no single value per row (lists, structs, maps, unions)."""
    for column in schema:
        kind = column.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_nested(kind):
            raise InputError(
                f"{path}: column {column.name!r} holds {kind} values, not one value per row; loyalsim reads "
                "text, numbers, dates and timestamps: flatten the column (one row per transaction) or drop it"
            )


def _csv_problem(path: Path, exc: Exception) -> str:
    """Where and what a CSV parse error is. Arrow numbers the bad row only when it reads on
    one thread, so on failure (only then) the file is read again that way to find it."""
    import pyarrow.csv as pacsv

    message = str(exc)
    if isinstance(exc, pa.ArrowInvalid) and "CSV parse error" in message:
        try:
            pacsv.read_csv(path, read_options=pacsv.ReadOptions(use_threads=False))
        except pa.ArrowInvalid as again:
            message = str(again)
    found = re.match(r"CSV parse error: Row #(\d+): (.*)", message, re.S)
    located = None
    if not found and "invalid UTF8" in message:
        located = locate_not_utf8(path)
    elif not found and "straddl" in message:
        located = locate_long_row(path)
    if located:
        return f"{path}: {located}"
    if not found:
        return f"{path}: cannot read as CSV: {message.splitlines()[0]}"
    what, _, text = found.group(2).partition(": ")
    shown = repr(text.split("\n")[0][:60])
    return (
        f"{path}: row {found.group(1)}: cannot read as CSV: {what} (the row starts {shown}); "
        "a field holding a comma, a quote or a line break must be quoted, with quotes inside doubled"
    )


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A Parquet column as the text a CSV would hold, so that both are checked alike.

    Timestamps are written as their wall-clock time in their own time zone (a sale at
    23:30 in New York is on that New York day), to the second; fractions are dropped.
    """
    if pa.types.is_timestamp(column.type):
        local = pc.local_timestamp(column) if column.type.tz else column
        return pc.strftime(pc.cast(local, pa.timestamp("s"), safe=False), format="%Y-%m-%dT%H:%M:%S")
    return column.cast(pa.string())


def _rename(table: pa.Table, column_map: dict[str, str], file: str) -> pa.Table:
    names = list(table.schema.names)
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        where = ", ".join(
            f"{name!r} (columns {', '.join(str(i + 1) for i, n in enumerate(names) if n == name)})"
            for name in twice
        )
        raise InputError(
            f"{file}: the header names a column more than once: {where}; "
            "rename one of them so that each column has its own name"
        )
    for target, source in column_map.items():
        if target not in REQUIRED + OPTIONAL:
            raise UsageError(
                f"--column {target}={source}: unknown column {target!r}; "
                f"known: {', '.join(REQUIRED + OPTIONAL)}"
            )
        if source not in names:
            raise InputError(
                f"{file}: --column {target}={source}: the file has no column {source!r} "
                f"(it has: {', '.join(names)})"
            )
        if target != source and target in names:
            raise InputError(
                f"{file}: --column {target}={source}: the file already has a column {target!r}; "
                "rename one of the two in the file, or drop the mapping"
            )
        names[names.index(source)] = target
    table = table.rename_columns(names)
    missing = [c for c in REQUIRED if c not in table.schema.names]
    if missing:
        raise InputError(
            f"{file}: missing column(s) {', '.join(missing)} (the file has: "
            f"{', '.join(table.schema.names)}); map other headers with --column NAME=SOURCE"
        )
    return table


# Dates a transaction file may hold. Outside them a date is a typo (0207 for 2027) that would
# make the replay walk every day of the centuries between.
FIRST_DATE, LAST_DATE = "1900-01-01", "2199-12-31"
_DATE_FORMATS = (
    ("%Y-%m-%d", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    ("%Y%m%d", r"^[0-9]{8}$"),
    ("%Y-%m-%dT%H:%M:%S", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$"),
    ("%Y-%m-%d %H:%M:%S", r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"),
    ("%Y-%m-%dT%H:%M", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$"),
)


def _parse_dates(
    column: pa.ChunkedArray,
) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Day numbers, seconds of day, a validity mask and an in-range mask (FIRST_DATE to LAST_DATE)."""
    low, high = (int(np.datetime64(d, "D").astype(np.int64)) for d in (FIRST_DATE, LAST_DATE))
    try:
        # The common case, plain ISO dates, in one vectorised cast (which refuses 2027-02-30).
        days = pc.cast(column, pa.date32()).cast(pa.int32()).to_numpy(zero_copy_only=False)
        return (
            days,
            np.zeros(days.size, dtype=np.int32),
            np.ones(days.size, dtype=bool),
            (days >= low) & (days <= high),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = pc.utf8_trim_whitespace(column)
    stamp = pa.nulls(len(text), pa.timestamp("s"))
    for fmt, shape in _DATE_FORMATS:
        # strptime alone rolls 2027-02-30 over to 2 March and reads '27-1-5' as the year 27:
        # a value counts only in its format's exact shape and if it reads back unchanged.
        parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        exact = pc.and_(
            pc.match_substring_regex(text, shape), pc.equal(pc.strftime(parsed, format=fmt), text)
        )
        stamp = pc.if_else(pc.and_(pc.is_null(stamp), pc.fill_null(exact, False)), parsed, stamp)
    valid = ~pc.is_null(stamp).to_numpy(zero_copy_only=False)
    seconds = pc.fill_null(stamp.cast(pa.int64()), 0).to_numpy()
    day, second = np.divmod(seconds, 86_400)
    return day.astype(np.int32), second.astype(np.int32), valid, ~valid | ((day >= low) & (day <= high))


def _parse_amounts(column: pa.ChunkedArray, minor_units: int) -> tuple[IntArray, BoolArray, BoolArray]:
    """Amounts in minor units, exactly, rounded half-even; whether each is a number; whether in range.

    Decimal text is parsed digit by digit (a compiled pass over the column's bytes), so
    "1.015" is 102 cents, not the 101 a binary float would give. Exponent notation ("1e3")
    and columns that are not plain text fall back to a float conversion, rounded half-even.
    """
    chunks = column.chunks
    if not chunks:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    if not all(
        (pa.types.is_string(c.type) or pa.types.is_large_string(c.type)) and not c.null_count for c in chunks
    ):
        return _amounts_as_floats(column.combine_chunks(), minor_units)
    # Chunk by chunk: combining ten million strings first would copy them all.
    parts = [_parse_text_chunk(chunk, minor_units) for chunk in chunks]
    amount = np.concatenate([part[0] for part in parts])
    status = np.concatenate([part[1] for part in parts])
    return amount, status != NOT_A_NUMBER, status != TOO_BIG


def _blank(column: pa.ChunkedArray) -> BoolArray:
    """Which values are empty or only whitespace (nulls count as blank)."""
    parts = []
    for chunk in column.chunks:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)) or chunk.null_count:
            parts.append(
                pc.fill_null(
                    pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(chunk.cast(pa.string()))), 0), True
                ).to_numpy(zero_copy_only=False)
            )
            continue
        offsets, text = text_buffers(chunk)
        blank, unsure = _blank_text(text, offsets)
        maybe = np.flatnonzero(unsure)
        if maybe.size:  # non-ASCII bytes and nothing else: Unicode whitespace is Arrow's to judge
            trimmed = pc.utf8_trim_whitespace(chunk.take(pa.array(maybe)))
            blank[maybe] = pc.equal(pc.utf8_length(trimmed), 0).to_numpy(zero_copy_only=False)
        parts.append(blank)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


@kernel
def _blank_text(
    text: npt.NDArray[np.uint8], offsets: npt.NDArray[np.signedinteger[Any]]
) -> tuple[BoolArray, BoolArray]:
    """Per value: only ASCII whitespace (or nothing); and whether non-ASCII bytes leave it undecided."""
    n = offsets.size - 1
    blank = np.ones(n, dtype=np.bool_)
    unsure = np.zeros(n, dtype=np.bool_)
    for row in range(n):
        for i in range(offsets[row], offsets[row + 1]):
            byte = text[i]
            if byte >= 0x80:
                unsure[row] = True
            elif not (byte == 32 or 9 <= byte <= 13):
                blank[row] = False
                unsure[row] = False
                break
    return blank, unsure


def _parse_text_chunk(chunk: pa.Array, minor_units: int) -> tuple[IntArray, npt.NDArray[np.uint8]]:
    """One chunk of a text column (no nulls) as minor units and a status per value."""
    offsets, text = text_buffers(chunk)
    amount, status = _parse_decimal_text(text, offsets, minor_units, MAX_MINOR)
    floats = np.flatnonzero(status == FLOAT)
    if floats.size:
        values, ok, in_range = _amounts_as_floats(chunk.take(pa.array(floats)), minor_units)
        amount[floats] = values
        status[floats] = np.where(ok, np.where(in_range, OK, TOO_BIG), NOT_A_NUMBER)
    return amount, status


def _amounts_as_floats(column: pa.Array, minor_units: int) -> tuple[IntArray, BoolArray, BoolArray]:
    """The float path: anything Arrow reads as a number (exponents included), rounded half-even."""
    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    ok = pc.fill_null(pc.match_substring_regex(text, NUMBER_PATTERN), False).to_numpy(zero_copy_only=False)
    scaled = pc.cast(pc.if_else(pa.array(ok), text, "0"), pa.float64()).to_numpy(
        zero_copy_only=False, writable=True
    )
    scaled *= 10**minor_units
    in_range = np.abs(scaled) <= MAX_MINOR  # also false for NaN
    scaled[~in_range] = 0
    return np.rint(scaled).astype(np.int64), ok, in_range | ~ok


@kernel
def _parse_decimal_text(
    text: npt.NDArray[np.uint8], offsets: npt.NDArray[np.signedinteger[Any]], minor_units: int, limit: int
) -> tuple[IntArray, npt.NDArray[np.uint8]]:
    """Each value of an Arrow text column as minor units, and its status (see ``values.decimal_value``)."""
    n = offsets.size - 1
    amount = np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.uint8)
    for row in range(n):
        amount[row], status[row] = decimal_value(text, offsets[row], offsets[row + 1], minor_units, limit)
    return amount, status


def _read_plain(path: Path, minor_units: int, column_map: dict[str, str], file: str) -> PlainRead | None:
    """A plain CSV file read from its bytes (``plain_csv``), or None: read it with Arrow."""
    if path.name.lower().endswith((".parquet", ".pq")) or not path.is_file():
        return None
    names = header_names(path)
    if names is None or len(set(names)) != len(names) or "" in names:
        return None
    renamed = _rename(
        pa.Table.from_arrays([pa.array([], pa.string())] * len(names), names=names), column_map, file
    ).schema.names
    low, high = (int(np.datetime64(d, "D").astype(np.int64)) for d in (FIRST_DATE, LAST_DATE))
    return read_plain_csv(path, renamed, OPTIONAL, minor_units, low, high)


def _parse_core(
    table: pa.Table, minor_units: int, reject: Callable[[BoolArray, str, str], None]
) -> tuple[Ints, ObjArray, Ints, Ints, IntArray]:
    """Customer codes and ids, days, seconds and amounts of an Arrow table, rejecting what is bad."""
    customers = table.column("customer_id")
    # Coding the ids runs beside the dates and amounts (the kernels and Arrow release the GIL).
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1)
    encoding = pool.submit(encode, customers, None)
    day, second, dates_ok, dates_in_range = _parse_dates(table.column("date"))
    amount, amount_ok, in_range = _parse_amounts(table.column("amount"), minor_units)
    all_rows, customer_ids = encoding.result()
    pool.shutdown()
    # Ids are trimmed when coded, so a blank one is "", the first in the table (or null, in Parquet).
    if customers.null_count or (customer_ids.size and not str(customer_ids[0]).strip()):
        reject(_blank(customers), "customer_id", "missing customer id")

    if not (dates_ok & dates_in_range).all():  # only then: an empty date is said to be missing
        reject(_blank(table.column("date")), "date", "missing date (the cell is empty)")
    reject(~dates_ok, "date", "not a date (expected YYYY-MM-DD, YYYYMMDD or YYYY-MM-DDTHH:MM[:SS])")
    reject(~dates_in_range, "date", f"date out of range (loyalsim reads {FIRST_DATE} to {LAST_DATE})")

    if not (amount_ok & in_range).all():
        reject(_blank(table.column("amount")), "amount", "missing amount (the cell is empty)")
    reject(~amount_ok, "amount", "not a number")
    reject(~in_range, "amount", "amount out of range")
    return all_rows, customer_ids, day, second, amount


def read_transactions(
    path: Path | str, minor_units: int = 2, column_map: dict[str, str] | None = None
) -> Transactions:
    """Read, check and sort a transaction file; rows with problems go to ``rejected``."""
    file = str(path)
    require_regular_file(Path(path), "the transactions")
    if not Path(path).name.lower().endswith((".parquet", ".pq")):
        check_csv_start(Path(path))
    plain = _read_plain(Path(path), minor_units, column_map or {}, file)
    if plain is not None:
        table = pa.table(plain.others) if plain.others else pa.table({"_": pa.nulls(len(plain))})
    else:
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
            errors.append(
                RowError(
                    file,
                    int(np.flatnonzero(new)[1000]) + 2,
                    name,
                    "",
                    f"{int(new.sum()) - 1000} more rows with this problem",
                )
            )
        bad[:] |= new

    if plain is not None:  # ids, dates (no times) and amounts (not negative) already read, all of them valid
        all_rows, customer_ids, day, amount = plain.customer, plain.customer_ids, plain.day, plain.amount
        second: Ints = np.zeros(0, dtype=np.int32)
    else:
        all_rows, customer_ids, day, second, amount = _parse_core(table, minor_units, reject)

    kinds = column("kind")
    is_return = np.zeros(n, dtype=bool)
    if kinds is not None:
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(kinds))
        is_return = pc.equal(lowered, "return").to_numpy(zero_copy_only=False)
        known = is_return | pc.is_in(lowered, pa.array(["purchase", ""])).to_numpy(zero_copy_only=False)
        reject(~known, "kind", "kind must be 'purchase' or 'return'")
    if plain is None:  # (a plain file's amounts are never negative: nothing to check or turn)
        reject(
            (amount < 0) & ~is_return,
            "amount",
            "negative amount in a purchase; mark returns with kind=return",
        )
        amount = np.abs(amount)

    quantity: Ints | None = None  # (no column: one item per row)
    quantities = column("quantity")
    if quantities is not None:
        q_text = pc.utf8_trim_whitespace(quantities)
        q_ok = pc.match_substring_regex(q_text, r"^[0-9]{1,9}$").to_numpy(zero_copy_only=False)
        empty = pc.equal(pc.utf8_length(q_text), 0).to_numpy(zero_copy_only=False)
        reject(~q_ok & ~empty, "quantity", "quantity must be a whole number")
        quantity = np.where(q_ok, pc.cast(pc.if_else(pa.array(q_ok), q_text, "1"), pa.int32()).to_numpy(), 1)

    ids = column("transaction_id")
    if is_return.any() and ids is None:
        first = int(np.flatnonzero(is_return & ~bad)[0]) if (is_return & ~bad).any() else None
        if first is not None:
            raise InputError(
                f"{file}: row {first + 2} is a return, but the file has no transaction_id column to "
                "match returns to their purchases; add one (or map it with --column transaction_id=...)"
            )

    _refuse_long_text(file, "customer_id", customer_ids, all_rows, None)
    # The kept rows in day order: one pass moves the main columns, ``pick`` finds the others.
    optional = [
        bool(second.any()),
        kinds is not None,
        quantities is not None,
        ids is not None,
        column("category") is not None,
        column("channel") is not None,
    ]
    pick, sorted_day, sorted_customer, sorted_amount, row = _kept_by_day(
        bad, day, all_rows, amount, any(optional)
    )
    size = row.size
    # Ids of rejected rows only may remain in the table: harmless, they never start.
    tid, tid_values = encode(ids, pick, empty_is_missing=True) if ids is not None else (None, _NO_VALUES)
    cat, cat_values = (
        encode(column("category"), pick, empty_is_missing=True)
        if column("category") is not None
        else (None, _NO_VALUES)
    )
    chan, chan_values = (
        encode(column("channel"), pick, empty_is_missing=True)
        if column("channel") is not None
        else (None, _NO_VALUES)
    )
    for name, codes, values in (
        ("transaction_id", tid, tid_values),
        ("category", cat, cat_values),
        ("channel", chan, chan_values),
    ):
        if codes is not None:
            _refuse_long_text(file, name, values, codes, row)
    return Transactions(
        customer=sorted_customer,
        customer_ids=customer_ids,
        day=sorted_day,
        second=second[pick] if optional[0] else np.zeros(size, dtype=np.int32),
        amount=sorted_amount,
        is_return=is_return[pick] if kinds is not None else np.zeros(size, dtype=bool),
        transaction_id=tid,
        category=cat,
        channel=chan,
        # No quantity column: one item per row, as a read-only view of a single one (a column of
        # ten million ones was 40 MB of fresh memory, and its page faults, for nothing).
        quantity=quantity[pick].astype(np.int32, copy=False)
        if quantity is not None
        else np.broadcast_to(np.int32(1), (size,)),
        row=row,
        file=file,
        rejected=sorted(errors, key=lambda e: e.row),
        transaction_ids=tid_values,
        categories=cat_values,
        channels=chan_values,
    )


# The longest id, category or channel read, in characters: real ids are tens of characters; a
# megabyte "id" is a broken export, and coding millions of them would take the machine's memory.
MAX_TEXT_CHARS = 1_000


def _refuse_long_text(
    file: str, column: str, values: ObjArray, codes: npt.ArrayLike, rows: npt.ArrayLike | None
) -> None:
    """Raise InputError naming the first row whose ``column`` value (``values[codes[i]]``, source
    row ``rows[i]``; None: rows in file order, ``i + 2``) is longer than ``MAX_TEXT_CHARS``. The
    check runs over distinct values only; row numbers are worked out only for a refusal."""
    if not values.size:
        return
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=values.size)
    over = np.flatnonzero(lengths > MAX_TEXT_CHARS)
    if not over.size:
        return
    hits = np.flatnonzero(np.isin(np.asarray(codes), over))
    numbers = hits + 2 if rows is None else np.asarray(rows)[hits]
    where = f"row {int(numbers.min())}, " if hits.size else ""
    longest = int(lengths[over].max())
    raise InputError(
        f"{file}: {where}column {column!r}: a value of {longest:,} characters is longer than the "
        f"{MAX_TEXT_CHARS:,} allowed; is a quote left open, or the wrong column mapped to {column}?"
    )


def _kept_by_day(
    bad: BoolArray, day: Ints, customer: Ints, amount: IntArray, with_pick: bool
) -> tuple[IntArray, Ints, Ints, IntArray, npt.NDArray[np.int32]]:
    """The rows not ``bad``, in stable day order: their positions (only ``with_pick``: else
    empty), days, customers, amounts and source row numbers (header = row 1)."""
    kept = ~bad
    if not kept.any():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty, np.zeros(0, dtype=np.int32)
    any_bad = not kept.all()
    first, last = (
        (int(day[kept].min()), int(day[kept].max())) if any_bad else (int(day.min()), int(day.max()))
    )
    span = last - first + 1
    if not _counting_sort_suits(span, day.size):  # a wild span: a comparison sort and gathers
        pick = np.flatnonzero(kept)
        pick = pick[np.argsort(day[pick], kind="stable")]
        return pick, day[pick], customer[pick], amount[pick], (pick + 2).astype(np.int32)
    size = int(kept.sum()) if any_bad else day.size
    pick = np.empty(size if with_pick else 0, dtype=np.int64)
    out_day, out_customer = np.empty(size, dtype=day.dtype), np.empty(size, dtype=customer.dtype)
    out_amount, row = np.empty(size, dtype=amount.dtype), np.empty(size, dtype=np.int32)
    skip = bad if any_bad else _NONE_BAD  # (empty: every row is kept, none to look up)
    # A large file is sorted as two halves on two threads: each counts its rows per day, and
    # then moves them to its own places (the first half's rows of a day before the second's,
    # so the order stays stable). 10M rows: 0.15 s on one thread, 0.08 s on two.
    cuts = [0, day.size // 2, day.size] if day.size >= SORT_SPLIT_FROM else [0, day.size]
    pieces = list(itertools.pairwise(cuts))
    counts = on_threads([(_day_counts, (skip, day, first, span, low, high)) for low, high in pieces])
    starts = _piece_starts(np.stack(counts))
    on_threads(
        [
            (
                _scatter_by_day,
                (
                    skip,
                    day,
                    customer,
                    amount,
                    first,
                    low,
                    high,
                    starts[k],
                    pick,
                    out_day,
                    out_customer,
                    out_amount,
                    row,
                ),
            )
            for k, (low, high) in enumerate(pieces)
        ]
    )
    return pick, out_day, out_customer, out_amount, row


# From this many rows, the counting sort by day runs as two halves on two threads.
SORT_SPLIT_FROM = 1 << 20


def _piece_starts(counts: IntArray) -> IntArray:
    """Where each piece's rows of each day start (``counts``: rows per piece and day): days in
    order, and within a day the pieces in order."""
    within = np.cumsum(counts, axis=0) - counts  # rows of earlier pieces on the same day
    per_day = counts.sum(axis=0)
    day_start = np.cumsum(per_day) - per_day
    starts: IntArray = (day_start[None, :] + within).astype(np.int64)
    return starts


@kernel
def _day_counts(
    bad: BoolArray, day: npt.NDArray[np.signedinteger[Any]], first: int, span: int, low: int, high: int
) -> IntArray:
    """Rows ``low`` to ``high - 1`` not ``bad`` (``bad`` empty: none is), counted per day from ``first``."""
    count = np.zeros(span, dtype=np.int64)
    check = bad.size > 0
    for i in range(low, high):
        if not (check and bad[i]):
            count[day[i] - first] += 1
    return count


@kernel
def _scatter_by_day(
    bad: BoolArray,
    day: npt.NDArray[np.signedinteger[Any]],
    customer: npt.NDArray[np.signedinteger[Any]],
    amount: IntArray,
    first: int,
    low: int,
    high: int,
    start: IntArray,
    pick: IntArray,
    out_day: npt.NDArray[np.signedinteger[Any]],
    out_customer: npt.NDArray[np.signedinteger[Any]],
    out_amount: IntArray,
    row: npt.NDArray[np.int32],
) -> None:
    """Move rows ``low`` to ``high - 1`` not ``bad`` (``bad`` empty: none is) to their places in
    day order, each day's from ``start`` (a counting sort: writes to one place per day, not a
    gather per column from all over memory)."""
    at_day = start.copy()
    check = bad.size > 0
    keep_pick = pick.size > 0
    for i in range(low, high):
        if check and bad[i]:
            continue
        slot = day[i] - first
        at = at_day[slot]
        at_day[slot] = at + 1
        if keep_pick:
            pick[at] = i
        out_day[at] = day[i]
        out_customer[at] = customer[i]
        out_amount[at] = amount[i]
        row[at] = i + 2


_NO_VALUES: ObjArray = np.zeros(0, dtype=object)


def sort_transactions(t: Transactions) -> Transactions:
    """Order rows by day (stable: a counting sort on the day offset).

    Within a day, a customer's rows are ordered by :func:`order_within_day` when they are
    processed; rows of different customers never interact, so their order is moot.
    """
    n = len(t)
    if n == 0:
        return t
    order = day_order(t.day)

    def take(values: Any) -> Any:
        return None if values is None else values[order]

    def take_unless_constant(values: Any) -> Any:
        # A constant column is the same in any order: skip the ten-million-element gather.
        return values if values.size and (values == values[0]).all() else values[order]

    return Transactions(
        customer=t.customer[order],
        customer_ids=t.customer_ids,
        day=t.day[order],
        second=take_unless_constant(t.second),
        amount=t.amount[order],
        is_return=take_unless_constant(t.is_return),
        transaction_id=take(t.transaction_id),
        category=take(t.category),
        channel=take(t.channel),
        quantity=take_unless_constant(t.quantity),
        row=t.row[order],
        file=t.file,
        rejected=t.rejected,
        file_index=take(t.file_index),
        files=t.files,
        transaction_ids=t.transaction_ids,
        categories=t.categories,
        channels=t.channels,
    )


def _counting_sort_suits(span: int, rows: int) -> bool:
    """Whether sorting ``rows`` rows over ``span`` days by counting suits: one count per day of the
    span is fine for centuries of dates; a wilder span (a few far-off dates in a small file)
    sorts by comparison instead."""
    return span <= max(4 * rows, 1 << 20)


def day_order(day: IntArray) -> IntArray:
    """The stable order of rows by day."""
    if day.size == 0:
        return np.zeros(0, dtype=np.int64)
    first = int(day.min())
    span = int(day.max()) - first + 1
    if _counting_sort_suits(span, day.size):
        # The counting sort of ``_kept_by_day``, moving row numbers instead of columns.
        start = _piece_starts(_day_counts(_NONE_BAD, day, first, span, 0, day.size)[None, :])[0]
        counted: IntArray = _day_order(day, first, start)
        return counted
    compared: IntArray = np.argsort(day, kind="stable")
    return compared


def order_within_day(t: Transactions, rows: IntArray, count: IntArray) -> tuple[IntArray, IntArray]:
    """For one day's ``rows``: (those rows, each one's rank among its customer's rows that day).

    A customer's transactions on a day are taken by time, purchases before returns, then
    transaction id, amount, category and channel: content, never file position. ``count``
    is scratch space, one zero per customer, left as zeros.
    """
    customer = t.customer[rows]
    rank, shared = _day_ranks(customer, count)
    if shared.any():  # customers with several transactions today: rank them by content
        positions = np.flatnonzero(shared)
        picked = rows[positions]
        keys = [
            _or_zero(t.channel, picked),
            _or_zero(t.category, picked),
            t.amount[picked],
            _or_zero(t.transaction_id, picked),
            t.is_return[picked].astype(np.int64),
            t.second[picked],
            customer[positions],
        ]
        order = positions[np.lexsort(keys)]
        grouped = customer[order]
        starts = np.concatenate(([True], grouped[1:] != grouped[:-1]))
        group_start = np.maximum.accumulate(np.where(starts, np.arange(order.size), 0))
        rank[order] = np.arange(order.size) - group_start
    return rows, rank


@kernel
def _day_ranks(customer: IntArray, count: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Each row's rank among its customer's rows, in row order; whether its customer has several."""
    for c in customer:
        count[c] += 1
    shared = np.empty(customer.size, dtype=np.bool_)
    for i in range(customer.size):
        shared[i] = count[customer[i]] > 1
    rank = np.empty(customer.size, dtype=np.int64)
    for i in range(customer.size - 1, -1, -1):
        count[customer[i]] -= 1
        rank[i] = count[customer[i]]
    return rank, shared


@kernel
def _day_order(day: npt.NDArray[np.signedinteger[Any]], first: int, start: IntArray) -> IntArray:
    """The stable order of rows by day, each day's rows placed from ``start`` (see ``day_order``)."""
    at_day = start.copy()
    order = np.empty(day.size, dtype=np.int64)
    for i in range(day.size):
        slot = day[i] - first
        order[at_day[slot]] = i
        at_day[slot] += 1
    return order


_NONE_BAD: BoolArray = np.zeros(0, dtype=bool)  # (for the counting sort: no row to skip)


def _or_zero(values: IntArray | None, rows: IntArray) -> IntArray:
    return values[rows] if values is not None else np.zeros(rows.size, dtype=np.int64)
