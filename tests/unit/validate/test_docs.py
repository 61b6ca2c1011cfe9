"""docs/rules.md is generated from the catalog; it must be current and name every code."""

from __future__ import annotations

import importlib.util

from loyalsim.catalog import CATALOG
from tests.conftest import ROOT


def test_rules_doc_is_current_and_complete() -> None:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "tools" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (ROOT / "docs" / "rules.md").read_text()
    assert module.render() == text, "run `make schemas` and commit docs/rules.md"
    for code in CATALOG:
        assert f"### {code}\n" in text
