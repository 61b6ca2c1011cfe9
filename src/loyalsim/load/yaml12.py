"""A YAML 1.2 reader that never trusts its input.

Where: the first stage of the pipeline. It drives PyYAML's *parser* only (libyaml when
available) and builds plain data from the event stream itself, so that:

- scalars follow the YAML 1.2 core schema (``NO`` and ``yes`` are text, ``010`` is ten,
  dates stay text), never YAML 1.1's surprises;
- no tag outside the core schema is ever constructed (``!!python/object`` is refused);
- duplicate keys are an error naming both lines;
- aliases are bounded by the size of what they expand to, so an alias bomb is refused
  after a few hundred events, in milliseconds;
- nesting depth, huge and non-finite numbers are refused with a location;
- every value and key records its line and column.

The builder is iterative (an explicit stack), so deep nesting cannot exhaust Python's
recursion limit before the depth limit refuses it.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from loyalsim.issues import Issue, JsonPath, Severity
from loyalsim.load.limits import DEFAULT_LIMITS, Limits
from loyalsim.load.source import Position, SourceMap

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_CORE = "tag:yaml.org,2002:"
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT10 = re.compile(r"[-+]?[0-9]+\Z")
_INT8 = re.compile(r"0o[0-7]+\Z")
_INT16 = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")
_DEPTH_HINT = "no program or scenario needs this depth; flatten the structure"


class LoadFailure(Exception):
    """Internal: stops the builder at the first problem; carries that problem as an Issue."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    path: JsonPath
    position: Position
    anchor: str | None
    size: int = 1
    pending_key: str | None = None
    has_key: bool = False
    key_lines: dict[str, int] = field(default_factory=dict)


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def _pos(mark: Any) -> Position:
    if mark is None:
        return (1, 1)
    return (mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, file: str, limits: Limits) -> None:
        self.file = file
        self.limits = limits
        self.source = SourceMap()
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.stack: list[_Frame] = []
        self.nodes = 0
        self.aliases = 0
        self.documents = 0
        self.root: Any = None
        self.root_set = False

    # -- problems ---------------------------------------------------------------------------
    def fail(self, code: str, message: str, position: Position, hint: str | None = None) -> LoadFailure:
        line, column = position
        return LoadFailure(
            Issue(code, Severity.ERROR, message, self.file, line, column, hint=hint, relevance=-10)
        )

    # -- where the next value goes ------------------------------------------------------------
    def child_path(self) -> JsonPath:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.container, list):
            return (*top.path, len(top.container))
        assert top.pending_key is not None
        return (*top.path, top.pending_key)

    def expecting_key(self) -> bool:
        return bool(self.stack) and isinstance(self.stack[-1].container, dict) and not self.stack[-1].has_key

    def count(self, n: int, position: Position) -> None:
        self.nodes += n
        if self.nodes > self.limits.max_nodes:
            raise self.fail(
                "LS013",
                f"the document expands to more than {self.limits.max_nodes:,} values "
                "(aliases multiply what they point to)",
                position,
                "this looks like an alias bomb; write the values out, or use fewer nested aliases",
            )

    def attach(self, value: Any, size: int, position: Position, span: int | None) -> None:
        """Put a finished value where the stack says it belongs."""
        path = self.child_path()
        self.source.values.setdefault(path, position)
        if span is not None:
            self.source.spans[path] = span
        if not self.stack:
            self.root, self.root_set = value, True
            return
        top = self.stack[-1]
        top.size += size
        if isinstance(top.container, list):
            top.container.append(value)
        else:
            assert top.pending_key is not None
            top.container[top.pending_key] = value
            top.pending_key, top.has_key = None, False

    def set_key(self, event: Any) -> None:
        top = self.stack[-1]
        position = _pos(event.start_mark)
        if not isinstance(event, yaml.ScalarEvent):
            raise self.fail(
                "LS021",
                "a mapping key must be plain text, not a list, mapping or alias",
                position,
                "write the key as a plain word such as `rate`",
            )
        if event.tag not in (None, "!", _CORE + "str"):
            raise self.fail("LS021", f"a mapping key cannot carry the tag {_show_tag(event.tag)}", position)
        key = event.value
        if key == "<<" and event.style in (None, ""):
            raise self.fail(
                "LS020",
                "merge keys (`<<`) are a YAML 1.1 feature loyalsim does not read",
                position,
                "write the merged keys out in full",
            )
        assert isinstance(top.container, dict)
        if key in top.container or key in top.key_lines:
            first = top.key_lines.get(key, 0)
            raise self.fail(
                "LS011",
                f"duplicate key '{key}': first defined on line {first}, defined again on line {position[0]}",
                position,
                "remove one of the two; YAML keeps only one and loyalsim will not guess which you meant",
            )
        top.key_lines[key] = position[0]
        top.pending_key, top.has_key = key, True
        self.source.keys[(*top.path, key)] = position

    # -- scalars ---------------------------------------------------------------------------
    def scalar(self, event: Any) -> Any:
        position = _pos(event.start_mark)
        text: str = event.value
        if len(text) > self.limits.max_scalar_chars:
            raise self.fail(
                "LS015",
                f"a text value of {len(text):,} characters is longer than the "
                f"{self.limits.max_scalar_chars:,} allowed",
                position,
            )
        tag = event.tag
        plain = event.style in (None, "") and tag in (None, "!")
        if tag in (None, "!"):
            return self.resolve_plain(text, position) if plain and tag is None else text
        name = tag[len(_CORE) :] if tag.startswith(_CORE) else None
        expected: tuple[type, ...] | None = {
            "int": (int,),
            "float": (int, float),
            "bool": (bool,),
            "null": (type(None),),
            "str": (str,),
        }.get(name or "")
        if name is None or expected is None:
            shown = _show_tag(tag)
            raise self.fail(
                "LS012",
                f"the tag {shown} is not allowed: loyalsim reads plain data only",
                position,
                "remove the tag; only the YAML core tags (!!str, !!int, !!float, !!bool, !!null) are read",
            )
        if name == "str":
            return text
        value = self.resolve_plain(text, position)
        if (isinstance(value, bool) and name != "bool") or not isinstance(value, expected):
            raise self.fail("LS012", f"'{text}' is not a valid !!{name}", position)
        return float(value) if name == "float" and isinstance(value, int | float) else value

    def resolve_plain(self, text: str, position: Position) -> Any:
        if text in _NULL:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        digits = text.lstrip("+-")
        if _INT10.match(text) or _INT8.match(text) or _INT16.match(text):
            if len(digits) > 20:
                raise self.out_of_range(text, position)
            base = 8 if text.startswith("0o") else 16 if text.startswith("0x") else 10
            number = int(text[2:], base) if base != 10 else int(text, 10)
            if abs(number) > self.limits.max_number:
                raise self.out_of_range(text, position)
            return number
        if _INF.match(text) or _NAN.match(text):
            raise self.fail(
                "LS016",
                f"'{text}' is not a finite number",
                position,
                "use a finite number; infinity and NaN have no meaning in a program",
            )
        if _FLOAT.match(text):
            mantissa = text.lower().split("e")[0].lstrip("+-").lstrip("0").replace(".", "")
            if len(mantissa) > 400:
                raise self.out_of_range(text, position)
            real = float(text)
            if not math.isfinite(real) or abs(real) > self.limits.max_number:
                raise self.out_of_range(text, position)
            return real
        return text

    def out_of_range(self, text: str, position: Position) -> LoadFailure:
        shown = text if len(text) <= 30 else text[:27] + "..."
        return self.fail(
            "LS015",
            f"the number {shown} is out of range (magnitude above {self.limits.max_number:,})",
            position,
            "use a smaller number, or quote it if it is meant as text",
        )

    # -- the event loop -------------------------------------------------------------------------
    def feed(self, event: Any) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self.fail(
                    "LS017",
                    "the file holds more than one YAML document",
                    _pos(event.start_mark),
                    "put each program or scenario in a file of its own",
                )
            return
        if (
            isinstance(
                event, yaml.ScalarEvent | yaml.MappingStartEvent | yaml.SequenceStartEvent | yaml.AliasEvent
            )
            and self.expecting_key()
        ):
            self.set_key(event)
            return
        position = _pos(event.start_mark)
        if isinstance(event, yaml.ScalarEvent):
            self.count(1, position)
            value = self.scalar(event)
            span = None
            start, end = event.start_mark, event.end_mark
            if start is not None and end is not None and end.line == start.line:
                span = max(1, end.column - start.column)
            if event.anchor:
                self.anchors[event.anchor] = (value, 1)
            self.attach(value, 1, position, span)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            is_map = isinstance(event, yaml.MappingStartEvent)
            allowed = (None, "!", _CORE + ("map" if is_map else "seq"))
            if event.tag not in allowed:
                raise self.fail(
                    "LS012",
                    f"the tag {_show_tag(event.tag)} is not allowed: loyalsim reads plain data only",
                    position,
                    "remove the tag",
                )
            if len(self.stack) >= self.limits.max_depth:
                raise self.fail(
                    "LS014", f"nesting deeper than {self.limits.max_depth} levels", position, _DEPTH_HINT
                )
            self.count(1, position)
            container: dict[str, Any] | list[Any] = {} if is_map else []
            self.stack.append(_Frame(container, self.child_path(), position, event.anchor))
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frame = self.stack.pop()
            if frame.anchor:
                self.anchors[frame.anchor] = (frame.container, frame.size)
            self.attach(frame.container, frame.size, frame.position, None)
        elif isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.limits.max_aliases:
                raise self.fail(
                    "LS013",
                    f"more than {self.limits.max_aliases} aliases",
                    position,
                    "write the values out instead of aliasing them",
                )
            if event.anchor not in self.anchors:
                raise self.fail(
                    "LS010", f"the alias *{event.anchor} refers to no anchor defined before it", position
                )
            value, size = self.anchors[event.anchor]
            self.count(size, position)
            # A copy, so that no later stage can change two places by changing one.
            self.attach(copy.deepcopy(value), size, position, None)


def _error_position(exc: yaml.YAMLError, text: str) -> Position:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return _pos(mark)
    index = getattr(exc, "position", None)
    if isinstance(index, int):
        before = text[:index]
        return (before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1)
    return (1, 1)


def _error_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem:
        message = str(problem)
        if context:
            message = f"{message} ({context})"
        return message
    if isinstance(exc, yaml.reader.ReaderError):
        character = exc.character
        code = ord(character) if isinstance(character, str) else int(character)
        return f"the control character U+{code:04X} is not allowed in YAML text (write it as an escape in double quotes)"
    return str(exc).splitlines()[0]


_SYNTAX_HINTS = (
    ("mapping values are not allowed", "a ':' follows a value; quote the value if it contains ': '"),
    ("found character '\\t'", "YAML indents with spaces, not tabs"),
    ("could not find expected ':'", "a key is missing its ':' or the indentation is off"),
    ("did not find expected key", "check the indentation: items of one mapping must line up"),
    ("found undefined alias", "define the anchor (&name) before using the alias (*name)"),
)


# libyaml (bundled with PyYAML wheels since 6.0.3) refuses flow nesting past its own limit
# while *scanning*, before any event reaches the builder; the pure-Python parser has no such
# limit. Both must end in the same LS014, so the parser's refusal is recognised by its text.
_NESTING_REFUSED = "exceeded maximum nesting depth"


def _depth_failure(exc: yaml.YAMLError, text: str, file: str, limits: Limits) -> LoadFailure:
    """The LS014 for a document the parser refused as too deep, located where our limit is passed.

    The parser stopped at its own (deeper) limit; the text before that point nests deeper than
    ``limits.max_depth`` too, and the builder, fed that prefix, refuses it at the exact place
    the pure-Python parser would. If the prefix somehow fails otherwise, the parser's own mark
    is used.
    """
    mark = getattr(exc, "problem_mark", None)
    index = getattr(mark, "index", None)
    if isinstance(index, int) and 0 < index <= len(text):
        builder = _Builder(file, limits)
        try:
            for event in yaml.parse(text[:index], Loader=_Loader):
                builder.feed(event)
        except LoadFailure as failure:
            if failure.issue.code == "LS014":
                return failure
        except yaml.YAMLError:
            pass
    line, column = _error_position(exc, text)
    return LoadFailure(
        Issue(
            "LS014",
            Severity.ERROR,
            "nesting deeper than the YAML parser allows",
            file,
            line,
            column,
            hint=_DEPTH_HINT,
            relevance=-10,
        )
    )


def parse_yaml(text: str, file: str, limits: Limits = DEFAULT_LIMITS) -> tuple[Any, SourceMap]:
    """Parse ``text`` into plain data and its source map; raise LoadFailure on the first problem."""
    builder = _Builder(file, limits)
    try:
        for event in yaml.parse(text, Loader=_Loader):
            builder.feed(event)
    except yaml.YAMLError as exc:
        if _NESTING_REFUSED in str(getattr(exc, "problem", "") or ""):
            raise _depth_failure(exc, text, file, limits) from exc
        line, column = _error_position(exc, text)
        message = _error_message(exc)
        hint = next((h for needle, h in _SYNTAX_HINTS if needle in message), None)
        raise LoadFailure(
            Issue(
                "LS010",
                Severity.ERROR,
                f"YAML syntax error: {message}",
                file,
                line,
                column,
                hint=hint,
                relevance=-10,
            )
        ) from exc
    if not builder.root_set or builder.documents == 0:
        raise LoadFailure(
            Issue(
                "LS018",
                Severity.ERROR,
                "the file is empty: it holds no YAML document",
                file,
                1,
                1,
                hint="start from `loyalsim schema program` or a file in programs/",
                relevance=-10,
            )
        )
    return builder.root, builder.source
