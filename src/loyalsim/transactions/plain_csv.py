"""Reading a plain CSV transaction file straight from its bytes, in one compiled pass.

Where: the transaction reader (the replay stage's input) tries this first for every CSV file. A
*plain* file is the usual export: comma-separated, one row per line (``\\n`` or
``\\r\\n``), values quoted or not but holding no quote, comma or line break, and every
value of the core columns clean: customer ids with nothing to trim, dates as
``YYYY-MM-DD`` (real dates, 1900-01-01 to 2199-12-31), amounts as non-negative decimals.
Its ids, dates and amounts are read from the file's bytes (read whole, never mapped) into
numbers, and its other known columns into Arrow text columns, without the column of ten
million strings per column that Arrow's reader makes first (measured figures:
benchmarks/README.md).

Anything else (a quote inside a value, a blank line, a byte-order mark, another date
format, a value to reject or to trim) returns None at the first row that is not plain,
and the file is read by Arrow's reader, which places every problem at its row and column.
Both readers share the per-value kernels of ``values``, so a plain file reads alike either
way (a test checks, over generated files).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from loyalsim.compiled import kernel, on_threads
from loyalsim.errors import InputError
from loyalsim.transactions.codes import TRIMMABLE, arrow_text, dense_codes, encode
from loyalsim.transactions.values import MAX_MINOR, OK, decimal_value, iso_day

IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]

_IGNORED, _ID, _DATE, _AMOUNT, _TEXT = range(5)  # a column's role; text columns are _TEXT + j
_NOT_A_DAY = -(2**62)


@dataclass
class PlainRead:
    """A plain file's rows, in file order."""

    customer: npt.NDArray[np.signedinteger[Any]]  # codes into ``customer_ids``
    customer_ids: ObjArray
    day: npt.NDArray[np.int32]
    amount: IntArray  # minor units
    others: dict[str, pa.ChunkedArray]  # the other known columns, as text

    def __len__(self) -> int:
        return int(self.day.shape[0])


def read_plain_csv(
    path: Path,
    names: list[str],
    text_columns: tuple[str, ...],
    minor_units: int,
    first_day: int,
    last_day: int,
) -> PlainRead | None:
    """The file at ``path`` (its header, already checked and renamed, is ``names``) if it is
    plain (see the module's docstring); None otherwise. Of its other columns, those named in
    ``text_columns`` are read as text, the rest ignored."""
    with path.open("rb", buffering=0) as handle:
        buffer = file_bytes(handle, path)
    if buffer is None:
        return None
    return _read(buffer, names, [n for n in names if n in text_columns], minor_units, first_day, last_day)


def file_bytes(handle: Any, path: Path) -> npt.NDArray[np.uint8] | None:
    """The whole file's bytes, read into memory (None: empty or not a regular file).

    Read, not mapped: a mapped file that another process truncates kills the reader with
    SIGBUS at the first page past the new end, with no message. A file whose size changes
    while it is read is refused (exit 2) instead of being half read.
    """
    status = os.fstat(handle.fileno())
    size = status.st_size
    if size <= 0 or not stat.S_ISREG(status.st_mode):
        return None
    buffer = _fresh_bytes(size)
    view = buffer.data
    got = 0
    while got < size:
        count = handle.readinto(view[got:])
        if not count:
            break
        got += count
    now = os.fstat(handle.fileno()).st_size
    if got != size or now != size:
        raise InputError(
            f"{path}: the file changed while it was being read (it had {size:,} bytes, then "
            f"{now:,}); read it again once nothing is writing to it, or copy it first"
        )
    return buffer


def _fresh_bytes(size: int) -> npt.NDArray[np.uint8]:
    """An uninitialised byte array, its pages faulted in by the kernel at once where Linux can
    (MAP_POPULATE): one call instead of a page fault per 4 KiB as the read fills it."""
    populate = getattr(mmap, "MAP_POPULATE", 0)
    if populate:
        with contextlib.suppress(OSError, ValueError):
            region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate)
            return np.frombuffer(region, dtype=np.uint8)  # the array keeps the region alive
    return np.empty(size, dtype=np.uint8)


def header_names(path: Path) -> list[str] | None:
    """The column names of a plain header line (None: not plain: quotes, a byte-order mark,
    not UTF-8, no line break)."""
    with path.open("rb") as handle:
        line = handle.readline(1 << 16)
    if not line.endswith(b"\n") or line.startswith(b"\xef\xbb\xbf"):
        return None
    try:
        text = line.decode("utf-8").rstrip("\n")
    except UnicodeDecodeError:
        return None
    if text.endswith("\r"):
        text = text[:-1]
    if "\r" in text:
        return None
    names = [
        name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name for name in text.split(",")
    ]
    return None if any('"' in name for name in names) else names


def _read(
    buf: npt.NDArray[np.uint8],
    names: list[str],
    text_columns: list[str],
    minor_units: int,
    first_day: int,
    last_day: int,
) -> PlainRead | None:
    breaks = np.flatnonzero(buf[: 1 << 16] == 10)
    start = int(breaks[0]) + 1 if breaks.size else 0
    if start <= 1 or start >= buf.size:
        return None  # no header line, or no rows
    roles = np.array(
        [
            _ID
            if name == "customer_id"
            else _DATE
            if name == "date"
            else _AMOUNT
            if name == "amount"
            else _TEXT + text_columns.index(name)
            if name in text_columns
            else _IGNORED
            for name in names
        ],
        dtype=np.int64,
    )
    # A large file is read in two halves on two threads (the kernel releases the GIL), the
    # second half's rows stored after the first half's, whose number is its line breaks.
    middle = _middle_line(buf, start) if buf.size - start >= SPLIT_FROM else buf.size
    first_rows = _count_breaks(buf, start, middle) if middle < buf.size else 0
    # Room for as many rows as the shortest plain rows would make (a one-byte id, a date, a
    # one-digit amount, other fields empty: "c,2027-01-01,1\n" is 15 bytes for three columns):
    # memory not written is never touched, so the unused room costs nothing. (The scan also
    # stops, as not plain, rather than write past the room.)
    shortest = len(names) + 12
    capacity = first_rows + (buf.size - (middle if middle < buf.size else start)) // shortest + 1
    id_start = np.empty(capacity, dtype=np.int64)
    id_length = np.empty(capacity, dtype=np.int32)
    day = np.empty(capacity, dtype=np.int32)
    amount = np.empty(capacity, dtype=np.int64)
    spans = np.empty((capacity, 2 * len(text_columns)), dtype=np.int64)
    outputs = (id_start, id_length, day, amount, spans)
    if middle < buf.size:
        halves = on_threads(
            [
                (
                    _scan,
                    (buf, start, middle, 0, roles, minor_units, MAX_MINOR, first_day, last_day, *outputs),
                ),
                (
                    _scan,
                    (
                        buf,
                        middle,
                        buf.size,
                        first_rows,
                        roles,
                        minor_units,
                        MAX_MINOR,
                        first_day,
                        last_day,
                        *outputs,
                    ),
                ),
            ]
        )
        if halves[0][0] != first_rows:
            return None  # (the first half stopped early: not plain)
    else:
        halves = [
            _scan(buf, start, buf.size, 0, roles, minor_units, MAX_MINOR, first_day, last_day, *outputs)
        ]
    if not all(plain for _, plain, _ in halves):
        return None
    rows = sum(count for count, _, _ in halves)
    widths = {width for count, _, width in halves if count}
    width = widths.pop() if len(widths) == 1 else -1
    if rows == 0:
        return None
    # Text must be UTF-8, as Arrow's reader requires: a value that is not is Arrow's to report.
    try:
        coded = dense_codes([(buf, id_start[:rows])], width) if width > 0 else None
        if coded is None:
            coded = encode(pa.chunked_array([_text_column(buf, id_start[:rows], id_length[:rows])]), None)
        others = {
            name: pa.chunked_array(
                [
                    _text_column(
                        buf,
                        spans[:rows, 2 * j],
                        (spans[:rows, 2 * j + 1] - spans[:rows, 2 * j]).astype(np.int32),
                    )
                ]
            )
            for j, name in enumerate(text_columns)
        }
    except (UnicodeDecodeError, pa.ArrowInvalid):
        return None
    return PlainRead(coded[0], coded[1], day[:rows], amount[:rows], others)


def _text_column(buf: npt.NDArray[np.uint8], starts: IntArray, lengths: npt.NDArray[np.int32]) -> pa.Array:
    """The spans ``buf[start:start + length]`` as an Arrow text array (the bytes copied once)."""
    offsets = np.zeros(starts.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = np.empty(int(offsets[-1]), dtype=np.uint8)
    _copy_spans(buf, starts, offsets, data)
    text = arrow_text(offsets, data)
    if (data >= 0x80).any():
        text.validate(full=True)  # raises ArrowInvalid on bytes that are not UTF-8
    return text


@kernel
def _copy_spans(
    buf: npt.NDArray[np.uint8], starts: IntArray, offsets: IntArray, data: npt.NDArray[np.uint8]
) -> None:
    for row in range(starts.size):
        at = starts[row]
        for k in range(offsets[row + 1] - offsets[row]):
            data[offsets[row] + k] = buf[at + k]


# Files of at least this many bytes are read in two halves at once (below it, the thread
# costs about what it saves).
SPLIT_FROM = 1 << 20


def _middle_line(buf: npt.NDArray[np.uint8], start: int) -> int:
    """The start of the first line at or after the middle of ``buf[start:]`` (``buf.size`` if
    none begins within 64 KiB of it)."""
    middle = start + (buf.size - start) // 2
    breaks = np.flatnonzero(buf[middle : middle + (1 << 16)] == 10)
    return middle + int(breaks[0]) + 1 if breaks.size else buf.size


@kernel
def _count_breaks(buf: npt.NDArray[np.uint8], start: int, stop: int) -> int:
    count = 0
    for i in range(start, stop):
        if buf[i] == 10:
            count += 1
    return count


@kernel
def _scan(
    buf: npt.NDArray[np.uint8],
    start: int,
    end: int,
    first_row: int,
    roles: IntArray,
    minor_units: int,
    limit: int,
    first_day: int,
    last_day: int,
    id_start: IntArray,
    id_length: npt.NDArray[np.int32],
    day: npt.NDArray[np.int32],
    amount: IntArray,
    spans: IntArray,
) -> tuple[int, bool, int]:
    """Read the rows of ``buf[start:end]`` into the outputs from ``first_row``: (rows read,
    whether all were plain, the ids' common width: -1 when they differ, 0 with no rows).
    Stops at the first row that is not plain."""
    columns = roles.size
    width = 0
    count = 0
    i = start
    while i < end:
        row = first_row + count
        if row >= day.size:
            return count, False, width
        for column in range(columns):
            if i < end and buf[i] == 34:  # '"': a quoted value, plain if it holds no quote or line break
                i += 1
                begin = i
                while i < end and buf[i] != 34:
                    if buf[i] == 10 or buf[i] == 13:
                        return count, False, width
                    i += 1
                if i >= end:
                    return count, False, width
                stop = i
                i += 1
            else:
                begin = i
                while i < end:
                    byte = buf[i]
                    if byte == 44 or byte == 10 or byte == 13:  # noqa: PLR1714 (',', '\n', '\r'; compiled: no set)
                        break
                    if byte == 34:  # a quote inside a value: Arrow's to read
                        return count, False, width
                    i += 1
                stop = i
            if column < columns - 1:
                if i >= end or buf[i] != 44:
                    return count, False, width  # too few fields
                i += 1
            elif i < end:
                if buf[i] == 13 and i + 1 < end and buf[i + 1] == 10:
                    i += 2
                elif buf[i] == 10:
                    i += 1
                else:
                    return count, False, width  # too many fields, or a lone '\r'
            role = roles[column]
            if role == _ID:
                length = stop - begin
                if length == 0 or length >= 2**31 or TRIMMABLE[buf[begin]] or TRIMMABLE[buf[stop - 1]]:
                    return count, False, width
                id_start[row] = begin
                id_length[row] = length
                if count == 0:
                    width = length
                elif width != length:
                    width = -1
            elif role == _DATE:
                number = iso_day(buf, begin, stop, first_day, last_day)
                if number == _NOT_A_DAY:
                    return count, False, width
                day[row] = number
            elif role == _AMOUNT:
                value, status = decimal_value(buf, begin, stop, minor_units, limit)
                if status != OK or value < 0:
                    return count, False, width
                amount[row] = value
            elif role >= _TEXT:
                spans[row, 2 * (role - _TEXT)] = begin
                spans[row, 2 * (role - _TEXT) + 1] = stop
            else:  # an ignored column: non-ASCII text there is Arrow's to check (it must be UTF-8)
                for k in range(begin, stop):
                    if buf[k] >= 0x80:
                        return count, False, width
        count += 1
    return count, True, width
