"""Hostile input through the real command: each case a clean message, its code and exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.helpers import alias_bomb

CASES = {
    "alias-bomb": (alias_bomb(10).encode(), "LS013", 1),
    "deep-flow": (b"[" * 200_000, "LS014", 1),
    "deep-block": ("".join("  " * i + f"k{i}:\n" for i in range(100)).encode(), "LS014", 1),
    "huge-file": (b"# padding\n" * 120_000, "LS002", 2),
    "huge-integer": (b"apiVersion: loyalsim/v1\nseed: " + b"9" * 4000 + b"\n", "LS015", 1),
    "infinity": (b"apiVersion: loyalsim/v1\nkind: Program\nx: .inf\n", "LS016", 1),
    "python-tag": (b"a: !!python/object/apply:os.system ['echo owned']\n", "LS012", 1),
    "custom-tag": (b"a: !include other.yaml\n", "LS012", 1),
    "duplicate-keys": (b"apiVersion: loyalsim/v1\nkind: Program\nkind: Scenario\n", "LS011", 1),
    "binary": (bytes(range(256)) * 10, "LS003", 2),
    "latin-1": ("apiVersion: loyalsim/v1\nname: café\n".encode("latin-1"), "LS004", 2),
    "empty": (b"", "LS018", 1),
    "two-documents": (b"a: 1\n---\nb: 2\n", "LS017", 1),
    "top-level-list": (b"- kind: Program\n", "LS019", 1),
    "odd-key": (b"? [1, 2]\n: x\n", "LS021", 1),
    "syntax": (b"apiVersion: loyalsim/v1\nkind: [Program\n", "LS010", 1),
    "control-char": (b"a: \x07bell\n", "LS010", 1),
    "merge-key": (b"base: &b {x: 1}\nother:\n  <<: *b\n", "LS020", 1),
    "kind-is-a-number": (b"apiVersion: loyalsim/v1\nkind: 7\n", "LS030", 1),
    "long-line": (b"a: " + b"x" * 200_000 + b"\n", "LS015", 1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_gets_a_clean_error(name: str, tmp_path: Path) -> None:
    content, code, exit_code = CASES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(content)
    result = run_cli("validate", "--format", "json", str(path), timeout=30)
    assert result.returncode == exit_code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    issues = json.loads(result.stdout)["issues"]
    assert issues[0]["code"] == code
    assert issues[0]["file"] == str(path)
    text = run_cli("validate", str(path), timeout=30)
    assert text.returncode == exit_code and "Traceback" not in text.stderr


def test_a_folder_passed_as_a_file(tmp_path: Path) -> None:
    result = run_cli("validate", str(tmp_path))
    assert result.returncode == 2 and "no .yaml or .yml files" in result.stdout


@pytest.mark.slow
def test_outputs_that_cannot_be_written_get_a_clean_error_not_a_traceback(tmp_path: Path) -> None:
    from tests.conftest import ROOT
    from tests.helpers import small_scenario

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    transactions = tmp_path / "t.csv"
    transactions.write_text("customer_id,date,amount\na,2027-01-01,10\n")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "period,sales,points_issued,points_redeemed,expected_redemption_rate,point_value\n"
        "P1,1000,1000,200,0.8,0.01\n"
    )
    classic, coffee = (
        str(ROOT / "programs" / "classic-rewards.yaml"),
        str(ROOT / "programs" / "coffee-stars.yaml"),
    )
    cases = [
        (["earn", classic, str(transactions), "--out", str(blocker / "out.csv")], "cannot write"),
        (["earn", classic, str(transactions), "--out", str(tmp_path)], "it is a folder; give a file name"),
        (["account", str(ledger), "--output", str(blocker / "out.csv")], "cannot write"),
        # Refused before the simulation runs, not after.
        (
            [
                "simulate",
                coffee,
                str(small_scenario(tmp_path, initial=100, arrivals=0)),
                "--out",
                str(blocker / "sim"),
            ],
            "--out " + str(blocker / "sim") + ": cannot write there",
        ),
    ]
    for args, message in cases:
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert (
            message in result.stderr
            and "Traceback" not in result.stderr
            and "internal error" not in result.stderr
        )
    assert blocker.read_text() == "not a folder\n"


@pytest.mark.slow
def test_a_scenario_given_as_the_program_is_named_as_such_even_with_errors(tmp_path: Path) -> None:
    from tests.conftest import ROOT
    from tests.helpers import small_scenario

    scenario = small_scenario(tmp_path)
    broken = tmp_path / "broken.yaml"
    text = scenario.read_text()
    assert "horizon: 6 months" in text
    broken.write_text(text.replace("horizon: 6 months", "horizon: 9999 years"))  # LS308: an invalid scenario
    result = run_cli("explain", str(broken))
    assert result.returncode == 1 and "broken.yaml is a Scenario, not a Program" in result.stderr
    program = tmp_path / "program.yaml"
    program.write_text((ROOT / "programs" / "coffee-stars.yaml").read_text() + "bogus: 1\n")
    result = run_cli(
        "simulate", str(ROOT / "programs" / "coffee-stars.yaml"), str(program), "--out", str(tmp_path / "o")
    )
    assert result.returncode == 1 and "program.yaml is a Program, not a Scenario" in result.stderr
