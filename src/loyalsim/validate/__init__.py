"""The validate stage: a loaded document → issues (schema, then semantic rules).

Entry points: :func:`validate_document` for one loaded document and
:func:`validate_paths` for files, folders and globs, as ``loyalsim validate`` uses it.
Nothing here imports numpy or simpy: validation must start fast.
"""

from __future__ import annotations

import glob
import sys
from dataclasses import dataclass, field
from pathlib import Path

from loyalsim.catalog import info
from loyalsim.issues import UNREADABLE_CODES, Issue, Severity, sort_issues
from loyalsim.load import DEFAULT_LIMITS, LoadedDocument, load_bytes, load_file
from loyalsim.validate.config import ProjectConfig
from loyalsim.validate.schema_check import SCHEMA_NAMES, SchemaChecker, did_you_mean

__all__ = ["FileResult", "ValidationReport", "expand_paths", "validate_document", "validate_paths"]


@dataclass
class FileResult:
    """Validation of one file: its kind (if known), the issues shown and those suppressed."""

    file: str
    kind: str | None
    issues: list[Issue] = field(default_factory=list)
    suppressed: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(i.severity is Severity.ERROR for i in self.issues)

    @property
    def warnings(self) -> int:
        return sum(i.severity is Severity.WARNING for i in self.issues)


@dataclass
class ValidationReport:
    """All files validated in one run, in the order given."""

    files: list[FileResult]
    strict: bool = False
    command: str = "validate"  # the command that judged the files (validate, check): names CI reports

    @property
    def issues(self) -> list[Issue]:
        return [issue for result in self.files for issue in result.issues]

    @property
    def suppressed(self) -> list[Issue]:
        return [issue for result in self.files for issue in result.suppressed]

    def count(self, severity: Severity) -> int:
        return sum(i.severity is severity for i in self.issues)

    @property
    def exit_code(self) -> int:
        """0 clean; 1 errors (or warnings with --strict); 2 a file could not be read."""
        if any(i.code in UNREADABLE_CODES for i in self.issues):
            return 2
        if self.count(Severity.ERROR) or (self.strict and self.count(Severity.WARNING)):
            return 1
        return 0

    def failing(self, issue: Issue) -> bool:
        return issue.severity is Severity.ERROR or (self.strict and issue.severity is Severity.WARNING)


def _kind_issue(doc: LoadedDocument) -> Issue:
    kind = doc.data.get("kind")
    if kind is None:
        message, hint = "the document has no 'kind'", "add `kind: Program` or `kind: Scenario`"
        line, column = 1, 1
    else:
        guess = did_you_mean(str(kind), list(SCHEMA_NAMES))
        message = f"unknown kind {kind!r}" + (f"; did you mean '{guess}'?" if guess else "")
        hint = "loyalsim reads kind: Program and kind: Scenario"
        line, column = doc.source.locate(("kind",))
    return Issue("LS030", Severity.ERROR, message, doc.file, line, column, ("kind",), hint, relevance=-5)


def validate_document(doc: LoadedDocument) -> tuple[str | None, list[Issue]]:
    """Schema issues, then (if the schema is satisfied) semantic issues, most relevant first."""
    kind = doc.kind
    if kind not in SCHEMA_NAMES:
        return None, [_kind_issue(doc)]
    issues = SchemaChecker(SCHEMA_NAMES[kind]).check(doc)
    if not issues:
        from loyalsim.validate.rules import run_rules

        issues = run_rules(doc, kind)
    return kind, sort_issues(issues)


def _suppression_issues(doc: LoadedDocument) -> list[Issue]:
    found = []
    for line, codes in sorted(doc.suppressions.items()):
        for code in sorted(codes):
            if info(code).severity is Severity.ERROR:
                column = doc.line_text(line).find(code) + 1
                found.append(
                    Issue(
                        "LS900",
                        Severity.WARNING,
                        f"ignore[{code}] has no effect: {code} is an error, and errors cannot be suppressed",
                        doc.file,
                        line,
                        max(column, 1),
                        hint="fix the error, or remove the code from the comment",
                        relevance=20,
                    )
                )
    return found


def apply_suppressions(result: FileResult, doc: LoadedDocument | None, config: ProjectConfig) -> None:
    """Move warnings and info that are ignored inline or by config into ``result.suppressed``."""
    ignored = config.ignored_for(result.file)
    kept, suppressed = [], []
    for issue in result.issues:
        inline: frozenset[str] = frozenset()
        if doc is not None:
            inline = doc.suppressions.get(issue.line, frozenset())
            above = issue.line - 1
            if above in doc.suppressions and doc.line_text(above).lstrip().startswith("#"):
                inline |= doc.suppressions[above]
        if issue.severity is not Severity.ERROR and (issue.code in inline or issue.code in ignored):
            suppressed.append(issue)
        else:
            kept.append(issue)
    if doc is not None:
        kept += _suppression_issues(doc)
    result.issues, result.suppressed = sort_issues(kept), suppressed


def validate_one(path: Path | None, name: str, config: ProjectConfig, raw: bytes | None = None) -> FileResult:
    """Load and validate one file (or bytes from standard input when ``raw`` is given)."""
    loaded = load_bytes(raw, name) if raw is not None else load_file(path or Path(name), name)
    if loaded.document is None:
        result = FileResult(name, None, loaded.issues)
    else:
        kind, issues = validate_document(loaded.document)
        result = FileResult(name, kind, issues)
    apply_suppressions(result, loaded.document, config)
    return result


_YAML_SUFFIXES = (".yaml", ".yml")


def expand_paths(arguments: list[str]) -> tuple[list[str], list[Issue]]:
    """Files, folders (searched recursively for *.yaml / *.yml) and globs → file names, in order.

    A path that matches nothing yields an LS001 issue rather than an exception.
    """
    files: list[str] = []
    missing: list[Issue] = []
    for argument in arguments:
        if argument == "-":
            files.append("-")
            continue
        path = Path(argument)
        if path.is_dir():
            found = sorted(
                str(p)
                for p in path.rglob("*")
                if p.suffix in _YAML_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                missing.append(
                    Issue("LS001", Severity.ERROR, "no .yaml or .yml files in this folder", argument)
                )
            files += found
        elif path.exists():
            files.append(argument)
        elif glob.has_magic(argument):
            matches = sorted(glob.glob(argument, recursive=True))
            if not matches:
                missing.append(Issue("LS001", Severity.ERROR, "no file matches this pattern", argument))
            files += [m for m in matches if Path(m).is_file()]
        else:
            missing.append(
                Issue("LS001", Severity.ERROR, "no such file or folder", argument, hint="check the path")
            )
    unique = list(dict.fromkeys(files))
    return unique, missing


def validate_paths(
    arguments: list[str], config: ProjectConfig | None = None, *, strict: bool = False
) -> ValidationReport:
    """Validate everything ``arguments`` name; '-' reads one document from standard input."""
    config = config if config is not None else ProjectConfig()
    files, missing = expand_paths(arguments)
    results = [FileResult(issue.file, None, [issue]) for issue in missing]
    for name in files:
        if name == "-":
            # At most one byte past the limit, from a pipe or a device alike (`< /dev/zero` never ends).
            raw = sys.stdin.buffer.read(DEFAULT_LIMITS.max_bytes + 1)
            results.append(validate_one(None, "<stdin>", config, raw=raw))
        else:
            results.append(validate_one(Path(name), name, config))
    return ValidationReport(results, strict)
