"""The compile stage: a validated program document → an immutable :class:`Policy`.

Entry points: :func:`compile_document` (a loaded document) and :func:`load_policy` (a
file: load, validate, compile). Both raise :class:`loyalsim.errors.InputError` (file
unreadable, exit 2) or :class:`loyalsim.errors.InvalidDocumentError` (validation or
compilation errors, exit 1), carrying located issues.
"""

from __future__ import annotations

from pathlib import Path

from loyalsim.compile.policy import EarnBreakdown, Policy
from loyalsim.errors import InvalidDocumentError, load_error
from loyalsim.issues import Severity
from loyalsim.load import LoadedDocument, load_file

__all__ = ["EarnBreakdown", "Policy", "compile_document", "load_policy"]


def compile_document(doc: LoadedDocument) -> Policy:
    """Validate and compile one loaded program document."""
    from loyalsim.compile.build import build_policy
    from loyalsim.validate import validate_document

    kind, issues = validate_document(doc)
    errors = [i for i in issues if i.severity is Severity.ERROR]
    if kind == "Scenario" or (
        kind != "Program" and not errors
    ):  # the wrong file: its own errors do not matter
        raise InvalidDocumentError(f"{doc.file} is a {kind}, not a Program")
    if errors:
        raise InvalidDocumentError(f"{doc.file} is not a valid program ({len(errors)} error(s))", errors)
    policy, compile_issues = build_policy(doc)
    if policy is None:
        raise InvalidDocumentError(f"{doc.file} cannot be compiled", compile_issues)
    return policy


def load_policy(path: Path | str) -> Policy:
    """Load, validate and compile a program file."""
    name = str(path)
    loaded = load_file(Path(path), name)
    if loaded.document is None:
        raise load_error(name, loaded.issues)
    return compile_document(loaded.document)
