"""Schema validation: jsonschema errors → located, specific, helpful issues.

Where: the validate stage, first half. The published schemas in ``loyalsim/schemas`` are
the contract; this module turns each jsonschema error into an :class:`Issue` with a stable
code (LS1xx), the location of the offending key or value, and a "did you mean" where the
user probably mistyped a key or an enum value.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from loyalsim.issues import Issue, JsonPath, Severity
from loyalsim.load import LoadedDocument

SCHEMA_NAMES = {"Program": "program", "Scenario": "scenario"}

_CODES = {
    "additionalProperties": "LS101",
    "unevaluatedProperties": "LS101",
    "required": "LS102",
    "type": "LS103",
    "enum": "LS104",
    "const": "LS104",
    "minimum": "LS105",
    "maximum": "LS105",
    "exclusiveMinimum": "LS105",
    "exclusiveMaximum": "LS105",
    "minItems": "LS105",
    "maxItems": "LS105",
    "minLength": "LS105",
    "maxLength": "LS105",
    "pattern": "LS106",
    "format": "LS106",
    "uniqueItems": "LS107",
}

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "nothing",
}
_YAML11_BOOLS = frozenset({"yes", "no", "on", "off", "y", "n"})


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The published schema ``name`` ('program' or 'scenario'), as shipped in the package."""
    text = resources.files("loyalsim.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def validator_for(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name), format_checker=FormatChecker(formats=["date"]))


def show(value: Any) -> str:
    """A short rendering of a user's value for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return repr(value)


def did_you_mean(word: str, choices: list[str] | set[str] | frozenset[str]) -> str | None:
    """The closest choice to a mistyped word, case-insensitively, if any is close enough."""
    ordered = sorted(choices)
    lowered = {c.lower(): c for c in ordered}
    if word.lower() in lowered:
        return lowered[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


class _Resolver:
    """Collects the property names an object may hold at a point in the schema."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def deref(self, schema: Any) -> Any:
        while isinstance(schema, dict) and "$ref" in schema and schema["$ref"].startswith("#/$defs/"):
            merged = dict(self.root["$defs"][schema["$ref"].split("/")[-1]])
            for key, value in schema.items():
                if key != "$ref":
                    merged.setdefault(key, value)
            schema = merged
        return schema

    def branch_matches(self, schema: Any, instance: Any) -> bool:
        """Whether any if/then branch of the schema applies to the instance."""
        schema = self.deref(schema)
        branches = [s for s in schema.get("allOf", []) if isinstance(s, dict) and "if" in s]
        return any(Draft202012Validator(self.deref(b["if"])).is_valid(instance) for b in branches)

    def names(self, schema: Any, instance: Any, *, every_branch: bool = False) -> set[str]:
        schema = self.deref(schema)
        if not isinstance(schema, dict):
            return set()
        found = set(schema.get("properties", {}))
        for keyword in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(keyword, []):
                found |= self.names(sub, instance, every_branch=every_branch)
        if "if" in schema:
            if every_branch:
                matches_if = True
            else:
                matches_if = Draft202012Validator(self.deref(schema["if"])).is_valid(instance)
            branch = schema.get("then") if matches_if else schema.get("else")
            if branch is not None:
                found |= self.names(branch, instance, every_branch=every_branch)
        return found


def _hint(error: ValidationError) -> str | None:
    schema = error.schema if isinstance(error.schema, dict) else {}
    hint = schema.get("x-hint")
    return hint if isinstance(hint, str) else None


def _yaml11_hint(expected: str | list[str], value: Any) -> str | None:
    wanted = set([expected] if isinstance(expected, str) else expected)
    if isinstance(value, str):
        if "boolean" in wanted and value.lower() in _YAML11_BOOLS:
            return f"loyalsim reads YAML 1.2, where {value} is text, not a boolean: write true or false"
        if wanted & {"number", "integer"} and re.fullmatch(r"[-+]?[0-9][0-9_]*(\.[0-9_]*)?", value):
            if "_" in value:
                return "underscores in numbers are YAML 1.1 only: write the digits without '_'"
            return "remove the quotes: a quoted number is text"
        if wanted & {"number", "integer"} and re.fullmatch(r"[0-9]+(:[0-5]?[0-9])+", value):
            return "YAML 1.2 reads 1:30 as text; write the number of minutes or seconds instead"
    if "string" in wanted and isinstance(value, int | float) and not isinstance(value, bool):
        return "quote the value to keep it as text, e.g. '010'"
    if "string" in wanted and isinstance(value, bool):
        return "quote the value to keep it as text, e.g. 'no'"
    return None


class SchemaChecker:
    """Validates one document against its schema and yields issues."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.schema = load_schema(name)
        self.validator = validator_for(name)
        self.resolver = _Resolver(self.schema)

    def check(self, doc: LoadedDocument) -> list[Issue]:
        issues: dict[tuple[str, JsonPath, str], Issue] = {}
        for error in self.validator.iter_errors(doc.data):
            for issue in self.translate(error, doc):
                issues.setdefault((issue.code, issue.path, issue.message), issue)
        return list(issues.values())

    def issue(
        self,
        doc: LoadedDocument,
        code: str,
        path: JsonPath,
        message: str,
        hint: str | None = None,
        *,
        key: bool = False,
    ) -> Issue:
        line, column = doc.source.locate(path, key=key)
        span = len(str(path[-1])) if key and path else doc.source.span(path)
        end = column + span if span else None
        return Issue(code, Severity.ERROR, message, doc.file, line, column, path, hint, end)

    def translate(self, error: ValidationError, doc: LoadedDocument) -> Iterator[Issue]:
        path: JsonPath = tuple(error.absolute_path)
        keyword = str(error.validator)
        code = _CODES.get(keyword, "LS100")
        value = error.instance
        where = _where(path)
        if keyword in ("unevaluatedProperties", "additionalProperties"):
            yield from self.unknown_keys(error, doc, path)
        elif keyword == "required":
            assert isinstance(value, dict)
            for name in error.validator_value:
                if name not in value:
                    yield self.issue(
                        doc,
                        code,
                        path,
                        f"{where} is missing the required key '{name}'",
                        _required_hint(path, name),
                    )
        elif keyword == "type":
            expected = error.validator_value
            words = " or ".join(
                _TYPE_WORDS.get(t, t) for t in ([expected] if isinstance(expected, str) else expected)
            )
            yield self.issue(
                doc,
                code,
                path,
                f"{where} must be {words}, not {show(value)}",
                _yaml11_hint(expected, value) or _hint(error),
            )
        elif keyword == "enum":
            allowed = [str(v) for v in error.validator_value]
            guess = did_you_mean(str(value), allowed) if isinstance(value, str) else None
            message = f"{where}: {show(value)} is not one of {', '.join(allowed)}"
            yield self.issue(doc, code, path, message + (f"; did you mean '{guess}'?" if guess else ""))
        elif keyword == "const":
            expected_value = error.validator_value
            yield self.issue(doc, code, path, f"{where} must be {show(expected_value)}, not {show(value)}")
        elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            relation = {
                "minimum": "at least",
                "maximum": "at most",
                "exclusiveMinimum": "more than",
                "exclusiveMaximum": "less than",
            }[keyword]
            yield self.issue(
                doc,
                code,
                path,
                f"{where} must be {relation} {error.validator_value}, not {show(value)}",
                _hint(error),
            )
        elif keyword in ("minItems", "maxItems"):
            relation = "at least" if keyword == "minItems" else "at most"
            count = error.validator_value
            yield self.issue(
                doc, code, path, f"{where} needs {relation} {count} item{'s' if count != 1 else ''}"
            )
        elif keyword in ("minLength", "maxLength"):
            yield self.issue(
                doc,
                code,
                path,
                f"{where} must not be empty" if keyword == "minLength" else f"{where} is too long",
            )
        elif keyword == "pattern":
            hint = _hint(error)
            message = f"{where}: {show(value)} is not " + (
                hint if hint else f"of the form {error.validator_value}"
            )
            yield self.issue(doc, code, path, message, _yaml11_hint("string", value))
        elif keyword == "format":
            yield self.issue(
                doc,
                "LS228",
                path,
                f"{where}: {show(value)} is not a real calendar date",
                "check the month and day",
            )
        elif keyword == "uniqueItems":
            yield self.issue(doc, code, path, f"{where} lists the same item more than once")
        elif keyword == "anyOf" and self._picked(error) is not None:
            for sub in self._picked(error) or []:
                yield from self.translate(sub, doc)
        elif keyword in ("anyOf", "oneOf"):
            hint = _hint(error)
            if hint:
                yield self.issue(doc, "LS106", path, f"{where}: {show(value)} is not {hint}")
            elif keyword == "anyOf" and all(set(s) == {"required"} for s in error.validator_value):
                keys = " or ".join(f"'{s['required'][0]}'" for s in error.validator_value)
                yield self.issue(doc, "LS102", path, f"{where} needs {keys}")
            else:
                yield self.issue(doc, code, path, f"{where} does not match any allowed form")
        else:
            yield self.issue(doc, code, path, f"{where}: {error.message}")

    def _picked(self, error: ValidationError) -> list[ValidationError] | None:
        """For an ``x-pick`` anyOf (a number or one of several mappings), the errors of the form the
        value was written in: the branch of its type whose keys it uses most (None: no such branch)."""
        schema = error.schema if isinstance(error.schema, dict) else {}
        if not schema.get("x-pick"):
            return None
        value = error.instance
        kind = "object" if isinstance(value, dict) else "number"
        if isinstance(value, bool) or not isinstance(value, dict | int | float):
            return None  # a string or a list: "does not match any allowed form" is the message
        branches = [
            (index, self.resolver.deref(branch))
            for index, branch in enumerate(error.validator_value)
            if self.resolver.deref(branch).get("type") == kind
        ]
        if not branches:
            return None
        keys = set(value) if isinstance(value, dict) else set()
        best = max(branches, key=lambda b: len(keys & set(b[1].get("properties", {}))))[0]
        return [sub for sub in error.context or [] if sub.relative_schema_path[0] == best]

    def unknown_keys(self, error: ValidationError, doc: LoadedDocument, path: JsonPath) -> Iterator[Issue]:
        instance = error.instance
        if not isinstance(instance, dict):
            return
        known = self.resolver.names(error.schema, instance)
        anywhere = self.resolver.names(error.schema, instance, every_branch=True)
        kind = instance.get("kind")
        for key in instance:
            if key in known:
                continue
            where = _where(path)
            if key in anywhere and not self.resolver.branch_matches(error.schema, instance):
                # The discriminator itself is wrong (reported on its own); the key may be fine.
                continue
            hint: str | None
            if key in anywhere and isinstance(kind, str):
                message = f"'{key}' is not allowed in {where} of kind '{kind}'"
                hint = f"'{key}' belongs to another kind; remove it or change kind"
            else:
                guess = did_you_mean(key, known)
                message = f"unknown key '{key}' in {where}" + (f"; did you mean '{guess}'?" if guess else "")
                hint = None if guess else f"allowed here: {', '.join(sorted(known))}"
            yield self.issue(doc, "LS101", (*path, key), message, hint, key=True)


def _where(path: JsonPath) -> str:
    from loyalsim.issues import format_path

    return "the document" if not path else format_path(path)


def _required_hint(path: JsonPath, name: str) -> str | None:
    if not path and name == "apiVersion":
        return "add `apiVersion: loyalsim/v1` at the top"
    if not path and name == "kind":
        return "add `kind: Program` or `kind: Scenario`"
    return None
