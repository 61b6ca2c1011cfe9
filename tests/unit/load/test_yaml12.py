"""The loader: YAML 1.2 meaning, locations, and refusal of hostile input."""

from __future__ import annotations

import pytest
import yaml

from loyalsim.load import Limits, load_bytes, load_text, yaml12
from tests.helpers import alias_bomb


def data(text: str):
    result = load_text(text, "t.yaml")
    assert result.document is not None, result.issues
    return result.document.data


def problem(text: str, limits: Limits | None = None):
    result = load_text(text, "t.yaml", limits) if limits else load_text(text, "t.yaml")
    assert result.document is None
    (issue,) = result.issues
    return issue


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("NO", "NO"),
        ("no", "no"),
        ("yes", "yes"),
        ("on", "on"),
        ("Off", "Off"),
        ("y", "y"),
        ("true", True),
        ("False", False),
        ("TRUE", True),
        ("010", 10),
        ("0o17", 15),
        ("0x1F", 31),
        ("-12", -12),
        ("+3", 3),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("1_000", "1_000"),
        ("1:30", "1:30"),
        ("0b101", "0b101"),
        ("2027-01-01", "2027-01-01"),
        ("2027-01-01T10:00:00Z", "2027-01-01T10:00:00Z"),
        ("~", None),
        ("null", None),
        ("", None),
        ("'010'", "010"),
        ('"true"', "true"),
        ("!!str 010", "010"),
        ("!!float 1", 1.0),
        ("!!int 7", 7),
    ],
)
def test_scalars_follow_yaml_1_2_core_schema(text: str, value: object) -> None:
    got = data(f"k: {text}\n")["k"]
    assert got == value and type(got) is type(value)


def test_every_value_and_key_has_its_line_and_column() -> None:
    result = load_text("a:\n  b: [1, {c: x}]\n  d: yes\n", "t.yaml")
    assert result.document is not None
    source = result.document.source
    assert source.locate(("a", "b", 1, "c")) == (2, 14)
    assert source.locate(("a", "d")) == (3, 6)
    assert source.locate(("a", "d"), key=True) == (3, 3)
    assert source.locate(("a", "b", 0)) == (2, 7)


def test_values_reached_through_an_alias_are_copies_located_at_the_alias() -> None:
    result = load_text("base: &b {rate: 1}\nother: *b\n", "t.yaml")
    assert result.document is not None
    doc = result.document.data
    assert doc["other"] == {"rate": 1} and doc["other"] is not doc["base"]
    assert result.document.source.locate(("other", "rate")) == (2, 8)


def test_duplicate_keys_name_both_lines() -> None:
    issue = problem("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert (issue.code, issue.line, issue.column) == ("LS011", 4, 3)
    assert "line 3" in issue.message and "line 4" in issue.message


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object:os.system x\n",
        "a: !!python/object/apply:os.system [ls]\n",
        "a: !custom 1\n",
        "a: !!set {x}\n",
        "a: !!binary aGVsbG8=\n",
        "!!python/name:os.system\n",
    ],
)
def test_non_core_tags_are_refused_not_constructed(text: str) -> None:
    issue = problem(text)
    assert issue.code == "LS012"


def test_alias_bomb_is_refused_before_it_is_expanded() -> None:
    issue = problem(alias_bomb(9))
    assert issue.code == "LS013"
    # Refused at the first alias whose expansion passes the 200,000-value limit: anchor f on
    # line 6 (about 9**6 values), long before the 9**9 the file describes. (Its speed, about
    # 40 ms, is recorded in docs/loader.md, not asserted here.)
    assert issue.line == 6


def test_too_many_aliases() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 50) + "]\n"
    assert problem(text, Limits(max_aliases=10)).code == "LS013"


# The C parser (libyaml) refuses flow nesting past its own limit of 1,000 levels while scanning,
# before the builder sees an event; the pure-Python parser has no limit. Both must give LS014.
PARSERS = {"libyaml": getattr(yaml, "CSafeLoader", None), "pure-python": yaml.SafeLoader}


@pytest.fixture(params=sorted(PARSERS))
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    loader = PARSERS[request.param]
    if loader is None:
        pytest.skip("this PyYAML was built without libyaml")
    monkeypatch.setattr(yaml12, "_Loader", loader)
    return str(request.param)


@pytest.mark.parametrize("opening", ["[", "{a: ", "[{a: "])
@pytest.mark.parametrize("levels", [65, 999, 1_001, 10_000, 200_000])
def test_deep_nesting_is_refused_the_same_whatever_the_parser(parser: str, opening: str, levels: int) -> None:
    issue = problem("k: " + opening * levels)
    assert issue.code == "LS014", issue
    assert issue.message == "nesting deeper than 64 levels"
    # Located where the 65th container opens (the top-level mapping is the first).
    assert (issue.line, issue.column) == (1, {"[": 67, "{a: ": 256, "[{a: ": 160}[opening])


def test_libyaml_depth_refusal_is_ls014_even_past_our_own_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    if PARSERS["libyaml"] is None:
        pytest.skip("this PyYAML was built without libyaml")
    try:
        list(yaml.parse("[" * 3_000, Loader=PARSERS["libyaml"]))
    except yaml.YAMLError as exc:
        if "maximum nesting depth" not in str(exc):
            pytest.skip("this libyaml has no nesting limit of its own (PyYAML before 6.0.3)")
    monkeypatch.setattr(yaml12, "_Loader", PARSERS["libyaml"])
    # A limit above libyaml's own: the parser stops first, and the refusal is still LS014,
    # located at the parser's mark and saying whose limit it was.
    issue = problem("[" * 3_000, Limits(max_depth=5_000))
    assert issue.code == "LS014"
    assert "YAML parser" in issue.message and (issue.line, issue.column) == (1, 1_001)


def test_block_nesting_depth_is_located(parser: str) -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(70)) + "  " * 70 + "v\n"
    issue = problem(text)
    assert issue.code == "LS014" and issue.line == 65


def test_unclosed_shallow_flow_is_a_syntax_error_not_a_depth_error(parser: str) -> None:
    assert problem("k: " + "[" * 30).code == "LS010"


@pytest.mark.parametrize(
    "text",
    [
        "a: 123456789012345678901234567890\n",
        "a: 9007199254740993\n",
        "a: 1e400\n",
        "a: -1e300\n",
        "a: 0x" + "F" * 30 + "\n",
        "a: " + "9" * 5000 + "\n",
    ],
)
def test_huge_numbers_are_refused(text: str) -> None:
    issue = problem(text)
    assert (issue.code, issue.line, issue.column) == ("LS015", 1, 4)


@pytest.mark.parametrize("text", ["a: .inf\n", "a: -.Inf\n", "a: .NaN\n", "a: !!float .nan\n"])
def test_non_finite_numbers_are_refused(text: str) -> None:
    assert problem(text).code == "LS016"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "LS018"),
        ("# only a comment\n", "LS018"),
        ("a: 1\n---\nb: 2\n", "LS017"),
        ("- 1\n", "LS019"),
        ("just text\n", "LS019"),
        ("<<: {a: 1}\n", "LS020"),
        ("? [a, b]\n: 1\n", "LS021"),
        ("a: [1,\n", "LS010"),
        ("a: *nowhere\n", "LS010"),
        ("a:\tb\n\tc: 1\n", "LS010"),
        ("a: 1\n b: 2\n", "LS010"),
    ],
)
def test_malformed_documents(text: str, code: str) -> None:
    assert problem(text).code == code


def test_bad_utf8_is_located() -> None:
    result = load_bytes(b"a: 1\nb: caf\xe9\n", "t.yaml")
    (issue,) = result.issues
    assert (issue.code, issue.line, issue.column) == ("LS004", 2, 7)
    assert "0xe9" in issue.message


def test_binary_input_is_refused() -> None:
    (issue,) = load_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "x.png").issues
    assert issue.code == "LS003"


def test_utf16_with_bom_is_read() -> None:
    result = load_bytes("a: é\n".encode("utf-16"), "t.yaml")
    assert result.document is not None and result.document.data == {"a": "é"}


def test_size_limit() -> None:
    (issue,) = load_bytes(b"a: 1\n" * 100, "t.yaml", Limits(max_bytes=100)).issues
    assert issue.code == "LS002"


def test_suppression_comments_are_found() -> None:
    result = load_text("a: 1  # loyalsim: ignore[LS204, ls208]\n", "t.yaml")
    assert result.document is not None
    assert result.document.suppressions == {1: frozenset({"LS204", "LS208"})}
