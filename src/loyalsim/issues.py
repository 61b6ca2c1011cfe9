"""Issue records: every problem loyalsim finds in a user's file, with where and why.

Issues are produced by the loader, the validator, the compiler and ``check``'s guardrails; reporters in
``loyalsim.report`` turn them into text, JSON, GitHub annotations, JUnit or SARIF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

JsonPath = tuple[str | int, ...]


class Severity(str, Enum):
    """How bad an issue is. Errors fail validation; warnings fail it only with --strict."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


# Codes whose issue means the file could not be read as text at all (exit code 2).
UNREADABLE_CODES = frozenset({"LS001", "LS002", "LS003", "LS004"})


def format_path(path: JsonPath) -> str:
    """Render a JSON path as users write it: ``earn[0].bands[1].rate``; ``$`` for the root."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = str(part)
    return out or "$"


def json_pointer(path: JsonPath) -> str:
    """RFC 6901 pointer for a path (used in SARIF and JSON output)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


@dataclass(frozen=True)
class Issue:
    """One finding. Lines and columns are 1-based; 0 means "no position" (e.g. a missing file)."""

    code: str
    severity: Severity
    message: str
    file: str
    line: int = 0
    column: int = 0
    path: JsonPath = ()
    hint: str | None = None
    end_column: int | None = None
    # Order of relevance within a file: lower comes first among equal severities.
    relevance: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def path_text(self) -> str:
        return format_path(self.path)

    @property
    def location(self) -> str:
        """``file:line:col``, or the file alone when the issue has no position."""
        return self.file if not self.line else f"{self.file}:{self.line}:{self.column}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.path_text,
            "pointer": json_pointer(self.path),
        }
        if self.hint:
            out["hint"] = self.hint
        return out


def sort_issues(issues: list[Issue]) -> list[Issue]:
    """Most relevant first: errors before warnings before info, then relevance, then position."""
    return sorted(issues, key=lambda i: (i.severity.rank, i.relevance, i.line, i.column, i.code))
