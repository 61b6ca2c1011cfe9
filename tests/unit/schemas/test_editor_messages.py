"""Editors show the CLI's words for bad values, never a raw regular expression."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest


def nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [n for item in node for n in nodes(item)]
    if not isinstance(node, dict):
        return []
    return [node] + [n for value in node.values() for n in nodes(value)]


@pytest.mark.parametrize("name", ["program", "scenario"])
def test_every_pattern_and_hinted_value_has_a_message_that_reads(name: str) -> None:
    schema = json.loads(resources.files("loyalsim.schemas").joinpath(f"{name}.schema.json").read_text())
    patterned = [n for n in nodes(schema) if "pattern" in n]
    assert patterned
    for node in patterned:
        message = node.get("patternErrorMessage", "")
        assert message.startswith("expected ") and "^" not in message and "(?" not in message, node
    hinted = [n for n in nodes(schema) if "x-hint" in n]
    assert all(n["errorMessage"] == f"expected {n['x-hint']}" for n in hinted)
    money = schema["$defs"]["money"]
    assert "no more decimals than the currency" in money["errorMessage"]
