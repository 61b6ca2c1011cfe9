"""The published schemas: generated from tools/gen_schemas.py, valid 2020-12, documented."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import jsonschema
import pytest

from tests.conftest import ROOT


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("gen_schemas", ROOT / "tools" / "gen_schemas.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["program", "scenario"])
def test_committed_schema_matches_its_generator(name: str) -> None:
    generator = _generator()
    built = getattr(generator, f"{name}_schema")()
    committed = (ROOT / "src" / "loyalsim" / "schemas" / f"{name}.schema.json").read_text()
    assert generator.render(built) == committed, "run `make schemas` and commit the result"


@pytest.mark.parametrize("name", ["program", "scenario"])
def test_schema_is_valid_2020_12_and_every_property_is_described(name: str) -> None:
    schema = json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    undocumented = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                if isinstance(sub, dict) and "description" not in sub and "$ref" not in sub:
                    undocumented.append(f"{path}.{key}")
            for key, sub in node.items():
                walk(sub, f"{path}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{path}[{i}]")

    walk(schema, "")
    # Properties re-declared inside an if/then branch inherit the description of the base property.
    undocumented = [p for p in undocumented if "/then" not in p and "/if" not in p]
    assert undocumented == []


def test_program_schema_serves_editors() -> None:
    schema = json.loads((ROOT / "schemas" / "program.schema.json").read_text())
    assert schema["defaultSnippets"] and schema["$defs"]["earn_rule"]["defaultSnippets"]
    assert "examples" in schema["$defs"]["duration"]
    assert all("markdownDescription" in p for p in schema["properties"].values())
    # Discriminated rules use if/then, not bare oneOf, so errors stay specific.
    assert "oneOf" not in json.dumps(schema)
    assert all("if" in branch for branch in schema["$defs"]["earn_rule"]["allOf"])


def test_canonical_programs_carry_the_editor_modeline() -> None:
    for path in sorted((ROOT / "programs").glob("*.yaml")):
        assert path.read_text().startswith("# yaml-language-server: $schema=../schemas/program.schema.json")
