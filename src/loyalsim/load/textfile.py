"""Reading a file as text, safely: size limit, binary detection, encodings with locations."""

from __future__ import annotations

import codecs
from pathlib import Path

from loyalsim.issues import Issue, Severity
from loyalsim.load.limits import Limits
from loyalsim.load.yaml12 import LoadFailure

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _fail(
    code: str, message: str, file: str, line: int = 0, column: int = 0, hint: str | None = None
) -> LoadFailure:
    return LoadFailure(Issue(code, Severity.ERROR, message, file, line, column, hint=hint, relevance=-20))


def read_text(path: Path, file: str, limits: Limits) -> str:
    """Return the file's text, or raise LoadFailure with LS001-LS004 (all exit code 2)."""
    try:
        # A FIFO would block until something writes to it, a device may never end: only regular
        # files (and folders, refused below) are opened.
        if path.exists() and not path.is_file() and not path.is_dir():
            raise _fail(
                "LS001",
                "this is a device or a pipe, not a file",
                file,
                hint="give a program or scenario file; to read standard input, give -",
            )
        with path.open("rb") as handle:
            raw = handle.read(limits.max_bytes + 1)
    except FileNotFoundError as exc:
        raise _fail("LS001", "no such file", file, hint="check the path") from exc
    except IsADirectoryError as exc:
        raise _fail("LS001", "this is a folder, not a file", file) from exc
    except OSError as exc:
        raise _fail("LS001", f"cannot read the file: {exc.strerror or exc}", file) from exc
    if len(raw) > limits.max_bytes:
        raise _fail(
            "LS002",
            f"the file is larger than {limits.max_bytes:,} bytes",
            file,
            hint="a program or scenario is a few kilobytes; is this the right file?",
        )
    return decode(raw, file)


def decode(raw: bytes, file: str) -> str:
    """Decode UTF-8 (or a BOM-marked UTF-16/32) text, locating the first bad byte."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise _fail(
                    "LS004",
                    f"the file starts with a {encoding} byte-order mark but is not valid {encoding}",
                    file,
                    1,
                    1,
                    hint="save the file as UTF-8",
                ) from exc
    if b"\x00" in raw[:8192]:
        raise _fail(
            "LS003",
            "this is a binary file, not YAML text",
            file,
            hint="loyalsim reads YAML text files saved as UTF-8",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        raise _fail(
            "LS004",
            f"the byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid UTF-8",
            file,
            line,
            column,
            hint="save the file as UTF-8 (it may be Latin-1 or Windows-1252)",
        ) from exc
