"""The README's count of design rules is the number of rules registered."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def test_the_readme_counts_the_rules_there_are() -> None:
    source = "".join(
        (ROOT / "src" / "loyalsim" / "validate" / "rules" / f"{m}.py").read_text()
        for m in ("program", "scenario")
    )
    registered = len(re.findall(r"^@rule\(", source, re.M))
    stated = re.search(r"and (\d+) design rules", (ROOT / "README.md").read_text())
    assert stated is not None and int(stated.group(1)) == registered
