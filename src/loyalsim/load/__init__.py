"""The load stage: untrusted YAML text → plain document + source map.

Entry points: :func:`load_file` and :func:`load_text`. Both return a :class:`LoadResult`
that holds either a :class:`LoadedDocument` or the issue that stopped loading; they never
raise for bad input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from loyalsim.issues import Issue, Severity
from loyalsim.load.limits import DEFAULT_LIMITS, Limits
from loyalsim.load.source import LoadedDocument, SourceMap
from loyalsim.load.textfile import decode, read_text
from loyalsim.load.yaml12 import LoadFailure, parse_yaml

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "LoadResult",
    "LoadedDocument",
    "SourceMap",
    "load_bytes",
    "load_file",
    "load_text",
]

_IGNORE = re.compile(r"#\s*loyalsim:\s*ignore\[([A-Za-z0-9_,\s]+)\]")


@dataclass
class LoadResult:
    """A loaded document, or the issues explaining why there is none."""

    file: str
    document: LoadedDocument | None
    issues: list[Issue] = field(default_factory=list)


def find_suppressions(text: str) -> dict[int, frozenset[str]]:
    """``# loyalsim: ignore[LS204, LS207]`` comments, by the line they stand on."""
    found: dict[int, frozenset[str]] = {}
    if "loyalsim:" not in text:
        return found
    for number, line in enumerate(text.splitlines(), start=1):
        match = _IGNORE.search(line)
        if match:
            found[number] = frozenset(c.strip().upper() for c in match.group(1).split(",") if c.strip())
    return found


def load_text(text: str, file: str, limits: Limits = DEFAULT_LIMITS) -> LoadResult:
    """Load YAML from a string already read (``file`` is the name used in messages)."""
    try:
        data, source = parse_yaml(text, file, limits)
    except LoadFailure as failure:
        return LoadResult(file, None, [failure.issue])
    if not isinstance(data, dict):
        shown = "a list" if isinstance(data, list) else "nothing" if data is None else f"the value {data!r}"
        issue = Issue(
            "LS019",
            Severity.ERROR,
            f"the top level must be a mapping of keys, but the file holds {shown}",
            file,
            *source.locate(()),
            hint="start the file with `apiVersion: loyalsim/v1`",
            relevance=-10,
        )
        return LoadResult(file, None, [issue])
    return LoadResult(file, LoadedDocument(file, data, source, text, find_suppressions(text)))


def load_bytes(raw: bytes, file: str, limits: Limits = DEFAULT_LIMITS) -> LoadResult:
    """Load YAML from bytes (e.g. standard input), with the same checks as a file."""
    try:
        if len(raw) > limits.max_bytes:
            return LoadResult(
                file,
                None,
                [
                    Issue(
                        "LS002", Severity.ERROR, f"the input is larger than {limits.max_bytes:,} bytes", file
                    )
                ],
            )
        text = decode(raw, file)
    except LoadFailure as failure:
        return LoadResult(file, None, [failure.issue])
    return load_text(text, file, limits)


def load_file(path: Path, file: str | None = None, limits: Limits = DEFAULT_LIMITS) -> LoadResult:
    """Read and load one file; ``file`` is how it is named in messages (default: the path)."""
    name = file if file is not None else str(path)
    try:
        text = read_text(path, name, limits)
    except LoadFailure as failure:
        return LoadResult(name, None, [failure.issue])
    return load_text(text, name, limits)
