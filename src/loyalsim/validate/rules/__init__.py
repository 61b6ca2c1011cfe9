"""Semantic rules: design mistakes the schema cannot see, registered by code.

Where: the validate stage, second half; they run only on documents the schema accepts,
so each rule may rely on the schema's shapes. A rule is a generator of :class:`Finding`;
the registry attaches the code, severity and location.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from loyalsim.catalog import info
from loyalsim.issues import Issue, JsonPath
from loyalsim.load import LoadedDocument


@dataclass(frozen=True)
class Finding:
    """What a rule found: where (JSON path) and what; ``key`` locates at the key, not the value."""

    path: JsonPath
    message: str
    hint: str | None = None
    key: bool = False


@dataclass(frozen=True)
class Context:
    """What a rule may look at: the document and where it lives."""

    doc: LoadedDocument

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.doc.data
        return data


RuleFn = Callable[[Context], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    kind: str
    check: RuleFn


RULES: list[Rule] = []


def rule(kind: str, code: str) -> Callable[[RuleFn], RuleFn]:
    """Register a rule for documents of ``kind`` under the catalog ``code``."""

    def register(fn: RuleFn) -> RuleFn:
        if info(code).name == "unknown":
            raise ValueError(f"rule code {code} is not in the catalog")
        RULES.append(Rule(code, kind, fn))
        return fn

    return register


def run_rules(doc: LoadedDocument, kind: str) -> list[Issue]:
    """Run every rule registered for ``kind`` on a schema-valid document."""
    from loyalsim.validate.rules import program, scenario  # noqa: F401  (registers the rules)

    context = Context(doc)
    issues = []
    for registered in RULES:
        if registered.kind != kind:
            continue
        code_info = info(registered.code)
        for finding in registered.check(context):
            line, column = doc.source.locate(finding.path, key=finding.key)
            span = doc.source.span(finding.path)
            issues.append(
                Issue(
                    registered.code,
                    code_info.severity,
                    finding.message,
                    doc.file,
                    line,
                    column,
                    finding.path,
                    finding.hint,
                    column + span if span and not finding.key else None,
                    relevance=10,
                )
            )
    return issues
