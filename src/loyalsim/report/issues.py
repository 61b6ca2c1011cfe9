"""Reporters for issue lists (``loyalsim validate``; later ``loyalsim check``), chosen by name.

Formats: text (people), json (scripts), github (Actions annotations), junit (test
dashboards), sarif (code-scanning). Each takes a :class:`ValidationReport`, returns a str.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree as ET

from loyalsim import __version__
from loyalsim.catalog import info
from loyalsim.issues import Issue, Severity
from loyalsim.validate import ValidationReport


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def summary_line(report: ValidationReport) -> str:
    files = len(report.files)
    errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
    infos = report.count(Severity.INFO)
    parts = [_plural(errors, "error"), _plural(warnings, "warning")]
    if infos:
        parts.append(f"{infos} info")
    text = f"{_plural(files, 'file')} checked: " + ", ".join(parts)
    if report.suppressed:
        codes = sorted({i.code for i in report.suppressed})
        text += f" ({len(report.suppressed)} suppressed: {', '.join(codes)})"
    return text


class _Style:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text


def render_text(report: ValidationReport, colour: bool = False) -> str:
    """``file:line:col: severity CODE message``, the source line with a caret, a hint, a summary."""
    style = _Style(colour)
    shades = {Severity.ERROR: "1;31", Severity.WARNING: "1;33", Severity.INFO: "1;36"}
    lines: list[str] = []
    sources: dict[str, list[str]] = {}
    for result in report.files:
        for issue in result.issues:
            where = issue.location
            lines.append(
                f"{style(where, '1')}: {style(issue.severity.value, shades[issue.severity])} "
                f"{issue.code} {issue.message}"
            )
            if issue.line:
                if issue.file not in sources:
                    sources[issue.file] = _read_lines(issue.file)
                text = sources[issue.file][issue.line - 1] if issue.line <= len(sources[issue.file]) else ""
                if text.strip():
                    width = max(1, (issue.end_column or issue.column + 1) - issue.column)
                    width = min(width, max(1, len(text) - issue.column + 1))
                    gutter = f"{issue.line:>5} | "
                    lines.append(gutter + text.rstrip())
                    lines.append(
                        " " * (len(gutter) - 2) + "| " + " " * (issue.column - 1) + style("^" * width, "1;32")
                    )
            if issue.hint:
                lines.append(f"      = hint: {issue.hint}")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def _read_lines(file: str) -> list[str]:
    try:
        with open(file, encoding="utf-8", errors="replace") as handle:  # noqa: PTH123
            return handle.read(2_000_000).splitlines()
    except OSError:
        return []


def render_json(report: ValidationReport) -> str:
    payload = {
        "tool": {"name": "loyalsim", "version": __version__},
        "issues": [issue.to_dict() for issue in report.issues],
        "suppressed": [issue.to_dict() for issue in report.suppressed],
        "files": [
            {"file": r.file, "kind": r.kind, "errors": r.errors, "warnings": r.warnings} for r in report.files
        ],
        "summary": {
            "files": len(report.files),
            "errors": report.count(Severity.ERROR),
            "warnings": report.count(Severity.WARNING),
            "info": report.count(Severity.INFO),
            "suppressed": len(report.suppressed),
            "exit_code": report.exit_code,
        },
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _gh_escape(text: str, *, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(report: ValidationReport) -> str:
    """GitHub Actions workflow commands: one annotation per issue, shown inline on the diff."""
    commands = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    out = []
    for issue in report.issues:
        props = [f"file={_gh_escape(issue.file, property_value=True)}"]
        if issue.line:
            props += [f"line={issue.line}", f"col={issue.column}"]
            if issue.end_column:
                props.append(f"endColumn={issue.end_column}")
        props.append(f"title={_gh_escape(f'{issue.code} {info(issue.code).name}', property_value=True)}")
        message = issue.message + (f" (hint: {issue.hint})" if issue.hint else "")
        out.append(f"::{commands[issue.severity]} {','.join(props)}::{_gh_escape(message)}")
    out.append(summary_line(report))
    return "\n".join(out) + "\n"


def render_junit(report: ValidationReport) -> str:
    """JUnit XML: one test case per file; failing issues are its failures."""
    name = f"loyalsim {report.command}"
    suites = ET.Element("testsuites", name=name)
    suite = ET.SubElement(suites, "testsuite", name=name, tests=str(len(report.files)))
    failures = 0
    for result in report.files:
        case = ET.SubElement(suite, "testcase", classname=f"loyalsim.{report.command}", name=result.file)
        failing = [i for i in result.issues if report.failing(i)]
        if failing:
            failures += 1
            body = "\n".join(_issue_line(i) for i in failing)
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{len(failing)} issue(s): {failing[0].message}",
                type=failing[0].code,
            )
            failure.text = body
        others = [i for i in result.issues if not report.failing(i)]
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(_issue_line(i) for i in others)
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suites.set("tests", str(len(report.files)))
    suites.set("failures", str(failures))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _issue_line(issue: Issue) -> str:
    where = issue.location
    return f"{where}: {issue.severity.value} {issue.code} {issue.message}"


def render_sarif(report: ValidationReport) -> str:
    """SARIF 2.1.0 for code scanning; suppressed issues are included with their suppression."""
    levels = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    used = sorted({i.code for i in report.issues + report.suppressed} | {"LS101"})
    index = {code: n for n, code in enumerate(used)}
    rules = []
    for code in used:
        entry = info(code)
        rules.append(
            {
                "id": code,
                "name": entry.name,
                "shortDescription": {"text": entry.summary or entry.name},
                "defaultConfiguration": {"level": levels[entry.severity]},
                "help": {"text": f"See docs/rules.md#{code.lower()} in the loyalsim documentation."},
            }
        )

    def result(issue: Issue, suppressed: bool) -> dict[str, object]:
        location: dict[str, object] = {
            "physicalLocation": {"artifactLocation": {"uri": _uri(issue.file), "uriBaseId": "%SRCROOT%"}},
        }
        if issue.line:
            region: dict[str, int] = {"startLine": issue.line, "startColumn": max(1, issue.column)}
            if issue.end_column and issue.end_column > issue.column:
                region["endColumn"] = issue.end_column
            location["physicalLocation"]["region"] = region  # type: ignore[index]
        if issue.path:
            location["logicalLocations"] = [{"fullyQualifiedName": issue.path_text, "kind": "member"}]
        text = issue.message + (f" Hint: {issue.hint}." if issue.hint else "")
        out: dict[str, object] = {
            "ruleId": issue.code,
            "ruleIndex": index[issue.code],
            "level": levels[issue.severity],
            "message": {"text": text},
            "locations": [location],
        }
        if suppressed:
            out["suppressions"] = [{"kind": "inSource", "justification": "ignored by a loyalsim suppression"}]
        return out

    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "loyalsim",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": [result(i, False) for i in report.issues]
                + [result(i, True) for i in report.suppressed],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _uri(file: str) -> str:
    path = Path(file)
    if path.is_absolute():
        try:
            return quote(path.relative_to(Path.cwd()).as_posix())
        except ValueError:
            return path.as_uri()
    return quote(path.as_posix())


RENDERERS: dict[str, Callable[[ValidationReport], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "junit": render_junit,
    "sarif": render_sarif,
}
FORMATS = tuple(RENDERERS)
