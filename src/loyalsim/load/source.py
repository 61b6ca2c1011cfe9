"""Source maps: where in the YAML text each value of a loaded document came from.

Where: produced by :mod:`loyalsim.load.yaml12`, used by the validator and compiler to put
``file:line:col`` on every issue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loyalsim.issues import JsonPath

Position = tuple[int, int]  # 1-based line, 1-based column


@dataclass
class SourceMap:
    """Positions of values and of mapping keys, keyed by JSON path."""

    values: dict[JsonPath, Position] = field(default_factory=dict)
    keys: dict[JsonPath, Position] = field(default_factory=dict)
    # Length of a scalar's source text, for carets under the whole value.
    spans: dict[JsonPath, int] = field(default_factory=dict)

    def locate(self, path: JsonPath, *, key: bool = False) -> Position:
        """Position of ``path`` (of its key when ``key``), or of its nearest located ancestor.

        Values reached through a YAML alias are located at the alias, since they have no
        text of their own.
        """
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        probe = path
        while probe:
            probe = probe[:-1]
            if probe in self.values:
                return self.values[probe]
        return (1, 1)

    def span(self, path: JsonPath) -> int | None:
        return self.spans.get(path)


@dataclass
class LoadedDocument:
    """A YAML file turned into plain JSON-compatible data, with its source map and text."""

    file: str
    data: Any
    source: SourceMap
    text: str
    # Lines where ``# loyalsim: ignore[...]`` comments suppress codes (line → codes).
    suppressions: dict[int, frozenset[str]] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        kind = self.data.get("kind") if isinstance(self.data, dict) else None
        return kind if isinstance(kind, str) else None

    def line_text(self, line: int) -> str:
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""
