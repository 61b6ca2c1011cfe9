"""Properties: documents drawn from the schemas, mutated documents and random bytes never
produce a traceback, and every issue they produce is located."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalsim.load import load_bytes, load_text
from loyalsim.validate import validate_document
from loyalsim.validate.schema_check import load_schema
from tests.conftest import PROGRAMS
from tests.property.schema_strategy import documents

FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


def check(document: Any, *, may_refuse: bool = False) -> list[Any]:
    # JSON is YAML 1.2; PyYAML's dumper writes YAML 1.1 and leaves strings such as '1E100'
    # unquoted, which a YAML 1.2 reader rightly reads as numbers.
    # JSON leaves DEL and C1 controls raw, which YAML forbids in text: escape them.
    text = re.sub(
        r"[\x7f-\x9f]",
        lambda m: f"\\u{ord(m.group()):04x}",
        json.dumps(document, indent=2, ensure_ascii=False),
    )
    loaded = load_text(text, "gen.yaml")
    if may_refuse and loaded.document is None:
        # e.g. a number beyond the safe range: refused by the loader, with a location.
        assert [i.code[:3] for i in loaded.issues] == ["LS0"] and loaded.issues[0].line >= 1
        return loaded.issues
    assert loaded.document is not None, loaded.issues
    _, issues = validate_document(loaded.document)
    for issue in issues:
        assert issue.line >= 1 and issue.column >= 1 and issue.code.startswith("LS")
    return issues


@pytest.mark.slow
@FAST
@given(documents(load_schema("program")))
def test_documents_drawn_from_the_program_schema_pass_the_schema(document: dict[str, Any]) -> None:
    issues = check(document)
    schema_codes = [i.code for i in issues if i.code.startswith("LS1")]
    assert schema_codes == [], [(i.code, i.message) for i in issues]


@pytest.mark.slow
@FAST
@given(documents(load_schema("scenario")))
def test_documents_drawn_from_the_scenario_schema_pass_the_schema(document: dict[str, Any]) -> None:
    issues = check(document)
    assert [i.code for i in issues if i.code.startswith("LS1")] == []


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


@pytest.mark.slow
@FAST
@given(st.sampled_from(PROGRAMS), st.data())
def test_mutated_canonical_programs_never_crash(path: Any, data: st.DataObject) -> None:
    loaded = load_text(path.read_text(), str(path))
    assert loaded.document is not None
    document = loaded.document.data
    for _ in range(data.draw(st.integers(1, 3))):
        target = data.draw(st.sampled_from(_paths(document)[1:]))
        parent = document
        for part in target[:-1]:
            parent = parent[part]
        action = data.draw(st.sampled_from(["replace", "delete", "insert"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[target[-1]]
        elif action == "insert" and isinstance(parent, dict):
            parent[data.draw(st.text(min_size=1, max_size=8))] = data.draw(json_values)
        else:
            parent[target[-1]] = data.draw(json_values)
        if not isinstance(document, dict):
            return
    check(json.loads(json.dumps(document)), may_refuse=True)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_loader(raw: bytes) -> None:
    result = load_bytes(raw, "random.bin")
    if result.document is None:
        assert result.issues and all(i.code.startswith("LS0") for i in result.issues)
    else:
        validate_document(result.document)


yamlish = st.lists(
    st.sampled_from(
        [
            "a",
            ":",
            " ",
            "\n",
            "-",
            "[",
            "]",
            "{",
            "}",
            "&x",
            "*x",
            "!!str",
            "!t",
            "'",
            '"',
            "#",
            "? ",
            "1",
            ".inf",
            "<<",
            "---",
            "...",
            "|",
            ">",
            "\t",
            "kind: Program\n",
            "apiVersion: loyalsim/v1\n",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(yamlish)
def test_yaml_like_text_never_crashes(text: str) -> None:
    result = load_text(text, "t.yaml")
    if result.document is not None:
        validate_document(result.document)
