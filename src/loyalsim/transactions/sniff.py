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
        raise InputError(f"{path}: line 1 (the header) is longer than {MAX_HEADER_BYTES:,} bytes; "
                         "is this a CSV file with one line per transaction? (a file with no line breaks, "
                         "or with old Mac line endings, \\r only, reads as one line)")
    if b"\x00" in first:
        raise InputError(f"{path}: line 1 holds NUL bytes: the file is binary or in a UTF-16/32 encoding "
                         "without a byte-order mark; save it as UTF-8 CSV")
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
