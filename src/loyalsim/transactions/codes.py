"""Text columns as integer codes: each value's rank among the column's sorted distinct values.

Where: the transaction reader (the replay stage's input), for customer ids, transaction ids,
categories and channels, so that ten million rows never become ten million Python strings.
Whitespace around a value is not part of it (' a' and 'a' are one value).

Three ways, fastest first; each gives exactly the same codes and table:

- *dense*: every value has the same byte width and, position by position, few distinct
  bytes (ids such as ``c0473188`` or ``00012345``). Each value maps to a mixed-radix number
  of its bytes' ranks at their positions, which sorts like the text itself; a table
  indexed by that number finds the distinct values with no hashing and no sorting. Taken
  when that number stays below eight times the row count.
- *packed*: one byte width of at most 8: the bytes packed big-endian into a uint64 (which
  sorts like the text), hashed by Arrow.
- *general*: Arrow's dictionary encoding of the text, trimmed and sorted.

The dense way's passes over a million values or more run as two halves on two threads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from loyalsim.compiled import kernel, on_threads

IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]
Codes = tuple[npt.NDArray[np.signedinteger[Any]], ObjArray]

_BLANKS = np.frombuffer(b" \t\r\n\x0b\x0c", dtype=np.uint8)
# Bytes a value may not start or end with to be kept as it is: ASCII blanks, and any
# non-ASCII byte (Unicode has whitespace beyond ASCII's, which Arrow trims too).
TRIMMABLE = np.zeros(256, dtype=np.bool_)
TRIMMABLE[_BLANKS] = True
TRIMMABLE[0x80:] = True


def text_buffers(chunk: pa.Array) -> tuple[npt.NDArray[np.signedinteger[Any]], npt.NDArray[np.uint8]]:
    """The offsets and bytes of a text array chunk (no copies)."""
    wide = pa.types.is_large_string(chunk.type)
    offsets: npt.NDArray[np.signedinteger[Any]] = np.frombuffer(
        chunk.buffers()[1],
        dtype=np.int64 if wide else np.int32,
        count=len(chunk) + 1,
        offset=chunk.offset * (8 if wide else 4),
    )
    data = chunk.buffers()[2]
    text = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return offsets, text


def encode(values: pa.ChunkedArray, rows: IntArray | None, *, empty_is_missing: bool = False) -> Codes:
    """Codes (ranks in the sorted distinct values) for the kept ``rows`` of a text column
    (all rows: None), and the sorted distinct values. With ``empty_is_missing``, an empty
    value has code -1 and is not in the table."""
    dense = _encode_dense(values)
    if dense is not None:
        codes, table = dense
        return (codes if rows is None else codes[rows]), table
    column = values.combine_chunks()
    if column.null_count:  # (Parquet) a null is an empty value
        column = pc.fill_null(column.cast(pa.string()), "")
    packed = _encode_packed(column, rows)
    if packed is not None:
        return packed
    encoded = column.dictionary_encode()
    # Whitespace is trimmed on the distinct values only (cheap), merging ' a' with 'a'.
    trimmed = pc.utf8_trim_whitespace(encoded.dictionary)
    distinct = pc.unique(trimmed)
    order = pc.sort_indices(distinct).to_numpy()
    sorted_values = distinct.take(pa.array(order))
    # Each original dictionary entry → rank of its trimmed text in the sorted distinct values.
    rank = pc.index_in(trimmed, value_set=sorted_values).to_numpy(zero_copy_only=False).astype(np.int32)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    general = rank[indices if rows is None else indices[rows]]
    table = np.asarray(sorted_values.to_pylist(), dtype=object)
    if empty_is_missing and table.size and table[0] == "":
        # "" sorts first: drop it from the table and shift the codes so that it becomes -1.
        return general - 1, table[1:]
    return general, table


def _may_be_trimmed(first_or_last: npt.NDArray[np.bool_]) -> bool:
    """Whether values starting (or ending) with these bytes (a mask of 256) may have whitespace
    to trim there (see TRIMMABLE)."""
    return bool((first_or_last & TRIMMABLE).any())


def _plain_text_chunks(values: pa.ChunkedArray) -> list[pa.Array] | None:
    chunks = [c for c in values.chunks if len(c)]
    if not chunks or any(
        c.null_count or not (pa.types.is_string(c.type) or pa.types.is_large_string(c.type)) for c in chunks
    ):
        return None
    return chunks


# A dense key table may hold up to this many slots per row (and never fewer than this many).
_DENSE_SLOTS_PER_ROW, _DENSE_MIN_SLOTS = 8, 1 << 16
# Values wider than this many bytes are coded the general way.
_DENSE_MAX_WIDTH = 64


def _encode_dense(values: pa.ChunkedArray) -> Codes | None:
    """The dense way (see the module's docstring), or None when it does not apply."""
    chunks = _plain_text_chunks(values)
    if chunks is None:
        return None
    buffers = [text_buffers(chunk) for chunk in chunks]
    first_offsets = buffers[0][0]
    width = int(first_offsets[1] - first_offsets[0])
    if width == 0 or not all(_one_width(offsets, width) for offsets, _ in buffers):
        return None
    return dense_codes([(text, offsets[:-1]) for offsets, text in buffers], width)


def dense_codes(
    parts: list[tuple[npt.NDArray[np.uint8], npt.NDArray[np.signedinteger[Any]]]], width: int
) -> Codes | None:
    """The dense way over values of ``width`` bytes (non-empty), each starting at ``starts``
    in its part's ``text``: parts are (text, starts) in row order. None when it does not apply."""
    if width > _DENSE_MAX_WIDTH:
        return None  # a table of 256 flags per byte position would be the column's size again, 256 times
    seen = np.zeros((width, 256), dtype=np.bool_)
    pieces = _pieces(parts)
    on_threads([(_seen_bytes, (text, starts, width, seen)) for text, starts, _ in pieces])
    if _may_be_trimmed(seen[0]) or _may_be_trimmed(seen[-1]):
        return None  # whitespace around values: the general way trims it
    n = sum(starts.size for _, starts in parts)
    cardinality = seen.sum(axis=1).astype(np.int64)
    slots = 1
    weight = np.zeros(width, dtype=np.int64)
    for position in range(width - 1, -1, -1):
        weight[position] = slots
        slots *= int(cardinality[position])
        if slots > max(_DENSE_SLOTS_PER_ROW * n, _DENSE_MIN_SLOTS):
            return None  # too many possible keys for a table
    # At each position, a byte's rank among the bytes seen there (order-preserving).
    digit = (np.cumsum(seen, axis=1) - 1).astype(np.int64)
    keys = np.empty(n, dtype=np.int64)
    slot_rank = np.zeros(slots, dtype=np.int32)
    on_threads(
        [
            (_dense_keys, (text, starts, width, digit, weight, keys, at, slot_rank))
            for text, starts, at in pieces
        ]
    )
    count = _rank_slots(slot_rank)
    codes = np.empty(n, dtype=np.int32)
    on_threads(
        [
            (_gather, (keys[at : at + starts.size], slot_rank, codes[at : at + starts.size]))
            for _, starts, at in pieces
        ]
    )
    del keys
    present = np.flatnonzero(slot_rank >= 0)
    # Back from keys to bytes, position by position.
    byte_of = [np.flatnonzero(seen[position]).astype(np.uint8) for position in range(width)]
    table_bytes = np.empty((count, width), dtype=np.uint8)
    for position in range(width):
        table_bytes[:, position] = byte_of[position][(present // weight[position]) % cardinality[position]]
    return codes, bytes_to_text(table_bytes)


# From this many values, the passes over them run as two halves on two threads: each pass
# reaches into a table of millions of slots at random places, and waits on memory.
SPLIT_FROM = 1 << 20


def _pieces(
    parts: list[tuple[npt.NDArray[np.uint8], npt.NDArray[np.signedinteger[Any]]]],
) -> list[tuple[npt.NDArray[np.uint8], npt.NDArray[np.signedinteger[Any]], int]]:
    """The parts as (text, starts, index of the first value), a large part cut in two halves."""
    pieces = []
    at = 0
    for text, starts in parts:
        cut = starts.size // 2 if starts.size >= SPLIT_FROM else 0
        if cut:
            pieces.append((text, starts[:cut], at))
        pieces.append((text, starts[cut:], at + cut))
        at += starts.size
    return pieces


@kernel
def _one_width(offsets: npt.NDArray[np.signedinteger[Any]], width: int) -> bool:
    """Whether every value of a text array (its offsets) is ``width`` bytes long."""
    for row in range(offsets.size - 1):  # noqa: SIM110 (a compiled loop: numba has no all() over a generator)
        if offsets[row + 1] - offsets[row] != width:
            return False
    return True


@kernel
def _seen_bytes(
    text: npt.NDArray[np.uint8],
    starts: npt.NDArray[np.signedinteger[Any]],
    width: int,
    seen: npt.NDArray[np.bool_],
) -> None:
    """Mark ``seen[position, byte]`` for every value (written only when not yet marked: threads
    marking the same few bytes would otherwise pass the table's cache lines to and fro)."""
    for row in range(starts.size):
        at = starts[row]
        for i in range(width):
            if not seen[i, text[at + i]]:
                seen[i, text[at + i]] = True


@kernel
def _dense_keys(
    text: npt.NDArray[np.uint8],
    starts: npt.NDArray[np.signedinteger[Any]],
    width: int,
    digit: IntArray,
    weight: IntArray,
    keys: IntArray,
    start: int,
    slot_rank: npt.NDArray[np.int32],
) -> None:
    """Each value's key (into ``keys`` from ``start``); mark its slot as present."""
    for row in range(starts.size):
        at = starts[row]
        key = 0
        for i in range(width):
            key += digit[i, text[at + i]] * weight[i]
        keys[start + row] = key
        if slot_rank[key] == 0:  # (written once: see _seen_bytes)
            slot_rank[key] = 1


@kernel
def _rank_slots(slot_rank: npt.NDArray[np.int32]) -> int:
    """Replace each present slot's mark by its rank among present slots (absent: -1); the count."""
    count = 0
    for k in range(slot_rank.size):
        if slot_rank[k]:
            slot_rank[k] = count
            count += 1
        else:
            slot_rank[k] = -1
    return count


@kernel
def _gather(keys: IntArray, slot_rank: npt.NDArray[np.int32], codes: npt.NDArray[np.int32]) -> None:
    for i in range(keys.size):
        codes[i] = slot_rank[keys[i]]


def _encode_packed(column: pa.Array, rows: IntArray | None) -> Codes | None:
    """The packed way (see the module's docstring), or None when it does not apply.

    Integers hash faster than strings.
    """
    if (
        column.null_count
        or len(column) == 0
        or not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type))
    ):
        return None
    offsets, data = text_buffers(column)
    width = int(offsets[1] - offsets[0])
    if not 0 < width <= 8 or int(offsets[-1] - offsets[0]) != width * len(column):
        return None
    raw = data[offsets[0] : offsets[-1]].reshape(-1, width)
    if _may_be_trimmed(np.bincount(raw[:, 0], minlength=256) > 0) or _may_be_trimmed(
        np.bincount(raw[:, -1], minlength=256) > 0
    ):
        return None
    padded = np.zeros((raw.shape[0], 8), dtype=np.uint8)
    padded[:, 8 - width :] = raw
    keys = padded.view(">u8").ravel().astype(np.uint64)
    encoded = pc.dictionary_encode(pa.array(keys))
    distinct = encoded.dictionary.to_numpy()
    order = np.argsort(distinct)
    rank = np.empty(order.size, dtype=np.int32)
    rank[order] = np.arange(order.size, dtype=np.int32)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    codes = rank[indices if rows is None else indices[rows]]
    as_bytes = distinct[order].astype(">u8").view(np.uint8).reshape(-1, 8)[:, 8 - width :]
    return codes, bytes_to_text(as_bytes)


def arrow_text(offsets: IntArray, data: npt.NDArray[np.uint8]) -> pa.Array:
    """An Arrow text array over ``data`` cut at ``offsets`` (one more than the values), made
    from the buffers as they are (large text when the bytes pass 2 GiB). Not checked: callers
    know the bytes are ASCII, or check the UTF-8 themselves (``validate(full=True)``)."""
    count = offsets.size - 1
    small = int(offsets[-1]) < 2**31
    kind = pa.string() if small else pa.large_string()
    bounds = offsets.astype(np.int32) if small else offsets.astype(np.int64, copy=False)
    return pa.Array.from_buffers(kind, count, [None, pa.py_buffer(bounds), pa.py_buffer(data)])


def bytes_to_text(values: npt.NDArray[np.uint8]) -> ObjArray:
    """Rows of UTF-8 bytes (one value per row, all of one width) as Python strings."""
    width = values.shape[1]
    data = np.ascontiguousarray(values).reshape(-1)
    if (values < 0x80).all():  # ASCII (the usual ids): Arrow makes the strings from the bytes as they are
        # (a million 8-byte ids: 0.06 s; numpy's casts to str and then to objects took 0.12 s)
        offsets = np.arange(values.shape[0] + 1, dtype=np.int64) * width
        out: ObjArray = arrow_text(offsets, data).to_numpy(zero_copy_only=False)
        return out
    strings = np.frombuffer(data.tobytes(), dtype=f"S{width}")
    return np.asarray(np.char.decode(strings, "utf-8"), dtype=object)
