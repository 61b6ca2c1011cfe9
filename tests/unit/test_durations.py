"""Durations: the parser and the schemas' pattern accept the same texts, and neither accepts
a zero length (rules divide by a limit's period, an expiry's length and a window)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalsim.durations import Duration, parse_duration
from loyalsim.validate.schema_check import load_schema

PATTERN = re.compile(load_schema("program")["$defs"]["duration"]["pattern"])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 day", Duration(days=1)),
        ("30 days", Duration(days=30)),
        ("6 weeks", Duration(days=42)),
        ("6 months", Duration(months=6)),
        ("1 year", Duration(months=12)),
        ("9999 days", Duration(days=9999)),
        ("P6M", Duration(months=6)),
        ("P1Y", Duration(months=12)),
        ("P0Y1M", Duration(months=1)),
        ("P1W2D", Duration(days=9)),
        ("P0001D", Duration(days=1)),
        ("P1Y0M0W0D", Duration(months=12)),
    ],
)
def test_durations_parse_to_months_and_days(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected
    assert PATTERN.fullmatch(text)


@pytest.mark.parametrize(
    "text",
    [
        "P0D",
        "P00D",
        "P0Y0M0W0D",
        "P",
        "0 days",
        "10000 days",
        "P10000D",
        "P1D1Y",
        "1.5 days",
        "P-1D",
        "",
    ],
)
def test_zero_empty_or_malformed_durations_are_refused_by_both(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)
    assert not PATTERN.fullmatch(text)


@pytest.mark.slow
@settings(max_examples=300)
@given(st.from_regex(PATTERN, fullmatch=True))
def test_every_text_the_schema_accepts_parses_to_a_positive_length(text: str) -> None:
    assert parse_duration(text).approx_days >= 1
