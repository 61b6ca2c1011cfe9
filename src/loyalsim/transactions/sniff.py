"""What a transaction file really is, from its first bytes, before any parser reads it.

Where: the transactions stage, called by :func:`loyalsim.transactions.reader.read_transactions`
for every file not named as Parquet. A CSV parser given a compressed file, a Parquet file, a
UTF-16 export or a Latin-1 header fails with a message about "blocks" or "columns" that says
nothing of the cause; these checks name the cause and the fix instead.
"""

from __future__ import annotations

from pathlib import Path

from loyalsim.errors import InputError

# (leading bytes, what they mean, how to fix it)
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it first (gunzip -k FILE) and pass the .csv"),
    (b"BZh", "a bzip2-compressed file", "decompress it first (bunzip2 -k FILE) and pass the .csv"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it first (unxz -k FILE) and pass the .csv"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file", "decompress it first (unzstd FILE) and pass the .csv"),
    (b"PK\x03\x04", "a zip archive (or a spreadsheet)", "unpack it, or export the sheet as CSV (UTF-8)"),
    (b"PAR1", "a Parquet file", "give it a .parquet name so that it is read as Parquet"),
    (b"\xff\xfe\x00\x00", "UTF-32 text", "save it as UTF-8 (iconv -f UTF-32 -t UTF-8 FILE)"),
    (b"\xff\xfe", "UTF-16 text", "save it as UTF-8 (iconv -f UTF-16 -t UTF-8 FILE)"),
    (b"\xfe\xff", "UTF-16 text", "save it as UTF-8 (iconv -f UTF-16 -t UTF-8 FILE)"),
)

# The longest header line read: a header is a few dozen names, never a megabyte.
MAX_HEADER_BYTES = 1 << 20


def check_csv_start(path: Path) -> None:
    """Refuse a file that is not UTF-8 CSV text, saying what it is and how to fix it.

    Raises InputError (exit 2) for compressed files, archives, Parquet under another name,
    UTF-16/32 text, NUL bytes in the first line, a header that is not UTF-8 or longer than
    ``MAX_HEADER_BYTES``. A missing file is left to the reader, which says so.
    """
    try:
        with path.open("rb") as handle:
            first = handle.readline(MAX_HEADER_BYTES + 1)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return
    for signature, what, fix in _SIGNATURES:
        if first.startswith(signature):
            raise InputError(f"{path}: this is {what}, not CSV text; {fix}")
    if len(first) > MAX_HEADER_BYTES:
        raise InputError(
            f"{path}: line 1 (the header) is longer than {MAX_HEADER_BYTES:,} bytes; "
            "is this a CSV file with one line per transaction? (a file with no line breaks, "
            "or with old Mac line endings, \\r only, reads as one line)"
        )
    if b"\x00" in first:
        raise InputError(
            f"{path}: line 1 holds NUL bytes: the file is binary or in a UTF-16/32 encoding "
            "without a byte-order mark; save it as UTF-8 CSV"
        )
    header = first[3:] if first.startswith(b"\xef\xbb\xbf") else first
    try:
        header.decode("utf-8")
    except UnicodeDecodeError as exc:
        column = header[: exc.start].count(b",") + 1
        raise InputError(
            f"{path}: line 1 (the header), column {column}: byte 0x{header[exc.start]:02X} at position "
            f"{exc.start + 1} is not UTF-8; the file looks like Latin-1 or Windows-1252 text: convert it "
            "(iconv -f WINDOWS-1252 -t UTF-8 FILE > FILE.utf8.csv)"
        ) from exc


# Arrow's CSV reader holds a row inside one block of this size (its default); a longer row
# fails with "straddles two block boundaries".
ARROW_BLOCK_BYTES = 1 << 20
_CHUNK = 1 << 24


def _header_names(path: Path) -> list[str]:
    with path.open("rb") as handle:
        line = handle.readline(MAX_HEADER_BYTES)
    return line.decode("utf-8", "replace").rstrip("\r\n").split(",")


def _row_and_column(path: Path, position: int) -> tuple[int, str, bytes]:
    """The row (the header is row 1) and column name of the byte at ``position``, and its row's start.

    Rows are counted by line breaks, as a plain export has them (a quoted field holding a line
    break shifts the count).
    """
    rows, line = 1, b""  # ``line``: the row so far, up to ``position``
    with path.open("rb") as handle:
        left = position
        while left > 0:
            block = handle.read(min(_CHUNK, left))
            if not block:
                break
            left -= len(block)
            rows += block.count(b"\n")
            cut = block.rfind(b"\n")
            line = block[cut + 1 :] if cut >= 0 else line + block
        rest = handle.read(80)
    names = _header_names(path)
    index = line.count(b",")
    column = names[index] if index < len(names) else f"#{index + 1}"
    return rows, column, (line[:60] + rest).split(b"\n")[0][:60]


def locate_not_utf8(path: Path) -> str | None:
    """Where the first byte that is not UTF-8 stands, as a message with the fix; None if none is found."""
    with path.open("rb") as handle:
        offset = 0
        carry = b""
        while True:
            block = handle.read(_CHUNK)
            if not block and not carry:
                return None
            data = carry + block
            try:
                data.decode("utf-8")
                carry = b""
            except UnicodeDecodeError as exc:
                if exc.reason == "unexpected end of data" and block and exc.start >= len(data) - 3:
                    carry = data[exc.start :]  # a character cut by the block's end: read on
                    offset += exc.start
                    continue
                position = offset + exc.start
                row, column, start = _row_and_column(path, position)
                return (
                    f"row {row}, column '{column}': not UTF-8 text (byte 0x{data[exc.start]:02x} at byte "
                    f"{position:,} of the file; the row starts {start.decode('utf-8', 'replace')!r}); the file "
                    "is in another encoding (exports in Latin-1 or Windows-1252 do this): convert it, e.g. "
                    "iconv -f WINDOWS-1252 -t UTF-8 FILE > FILE.utf8.csv"
                )
            if not block:
                return None
            offset += len(data) - len(carry)


def locate_long_row(path: Path, limit: int = ARROW_BLOCK_BYTES) -> str | None:
    """The first row longer than ``limit`` bytes, as a message with the likely causes; None if none."""
    with path.open("rb") as handle:
        # Lines are read at most limit + 2 bytes at a time: a longer one is found without being held.
        for row, line in enumerate(iter(lambda: handle.readline(limit + 2), b""), start=1):
            if len(line.rstrip(b"\r\n")) > limit:
                return (
                    f"row {row} is longer than {limit:,} bytes, more than a row can be. Most often a quote "
                    "left open joins many lines into one row, or the file's line breaks are missing (or are "
                    "\\r alone): check that row"
                )
    return None
