"""Bad input across every command: each hostile file in each place a command reads one.

Every case must end with a documented exit code (1: the content is wrong, 2: the file cannot
be read), a message that names the file, no traceback and no "internal error", and no output
written. The YAML cases are the hostile-input corpus (``test_hostile_input.CASES``); the
data-file cases cover transaction files and ledgers; the path cases cover what is not a
regular file at all. The library is checked in process (fast); the commands through the
installed ``loyalsim`` (marked slow: a process per case).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.acceptance.test_hostile_input import CASES as YAML_CASES
from tests.conftest import ROOT, run_cli
from tests.helpers import small_scenario

PROGRAM = ROOT / "programs" / "coffee-stars.yaml"
GOOD_SALES = b"customer_id,date,amount\na,2027-01-10,19.99\n"
GOOD_LEDGER = (
    b"period,sales,points_issued,points_redeemed,expected_redemption_rate,point_value\n"
    b"P1,1000,1000,200,0.8,0.01\n"
)

# (content, exit code) for a transaction file or a ledger given in place of a good one.
DATA_CASES: dict[str, tuple[bytes, int]] = {
    "empty": (b"", 2),
    "binary": (bytes(range(256)) * 40, 2),
    "nul-bytes": (b"customer_id,date,amount\n\0\0\0,\0,\0\n", 1),  # read, and its row rejected
    "utf-16": (GOOD_SALES.decode().encode("utf-16"), 2),
    "gzip": (b"\x1f\x8b\x08\x00" + b"\0" * 40, 2),
    "invalid-utf8-row": (GOOD_SALES + b"b\xff,2027-01-11,2\n", 2),
    "long-last-line": (GOOD_SALES + b"b,2027-01-11," + b"9" * (2 << 20), 2),
    "wrong-columns": (b"who,when,how_much\na,2027-01-10,1\n", 2),
    "yaml-not-csv": (PROGRAM.read_bytes(), 2),
}
# The ledger reader refuses rows it reads with exit 1, files it cannot read with exit 2.
LEDGER_EXIT = {
    "nul-bytes": 2,
    "long-last-line": 2,
    "invalid-utf8-row": 2,
    "binary": 2,
    "yaml-not-csv": 2,
    "wrong-columns": 2,
    "empty": 2,
    "utf-16": 2,
    "gzip": 2,
}


def _fifo(path: Path) -> None:
    os.mkfifo(path)


# What a path may be instead of a file: (make it, exit code).
PATH_CASES: dict[str, tuple[Callable[[Path], None], int]] = {
    "missing": (lambda p: None, 2),
    "a-folder": (lambda p: p.mkdir(), 2),
    "a-fifo": (_fifo, 2),
}


def _yaml_exit(name: str) -> int:
    return YAML_CASES[name][2]


def _commands(tmp: Path, bad: Path, role: str) -> list[list[str]]:
    """Each command line that reads ``bad`` as ``role`` (program, scenario, transactions, ledger)."""
    scenario = str(small_scenario(tmp, initial=50, arrivals=0, horizon="1 month", replications=1))
    out = str(tmp / "out")
    if role == "program":
        return [
            ["validate", str(bad)],
            ["explain", str(bad)],
            ["earn", str(bad), str(_sales(tmp))],
            ["simulate", str(bad), scenario, "--out", out],
            ["compare", str(bad), str(PROGRAM), scenario],
            ["sweep", str(bad), scenario, "--set", "earn[0].rate=1,2", "--out", out],
            ["sensitivity", str(bad), scenario, "--out", out],
            ["trace", str(bad), scenario],
        ]
    if role == "scenario":
        return [
            ["validate", str(bad)],
            ["simulate", str(PROGRAM), str(bad), "--out", out],
            ["check", str(bad)],
            ["compare", str(PROGRAM), str(PROGRAM), str(bad)],
            ["sweep", str(PROGRAM), str(bad), "--set", "earn[0].rate=1,2", "--out", out],
            ["sensitivity", str(PROGRAM), str(bad), "--out", out],
            ["trace", str(PROGRAM), str(bad)],
        ]
    if role == "transactions":
        return [
            ["earn", str(PROGRAM), str(bad), "--out", str(tmp / "out.csv")],
            ["fit", "purchases", str(bad), "--out", str(tmp / "segment.yaml")],
        ]
    return [["account", str(bad), "--output", str(tmp / "out.csv")]]


def _sales(tmp: Path) -> Path:
    path = tmp / "sales.csv"
    path.write_bytes(GOOD_SALES)
    return path


def _check(result_code: int, stdout: str, stderr: str, expected: int, bad: Path, tmp: Path) -> None:
    shown = stdout + stderr
    assert result_code == expected, (result_code, shown[-800:])
    assert "Traceback" not in shown and "internal error" not in shown, shown[-800:]
    assert bad.name in shown, shown[-800:]
    assert not (tmp / "out").exists() or not any((tmp / "out").glob("*.*")), "an output was written"
    assert not (tmp / "out.csv").exists() and not (tmp / "segment.yaml").exists()


# --- in process: the library's readers, one case each (fast) --------------------------------


@pytest.mark.parametrize("name", sorted(YAML_CASES))
@pytest.mark.parametrize("role", ["program", "scenario"])
def test_the_library_refuses_each_hostile_yaml_with_the_cli_exit_code(
    tmp_path: Path, name: str, role: str
) -> None:
    from loyalsim.compile import load_policy
    from loyalsim.errors import LoyalsimError
    from loyalsim.population.scenario import load_scenario

    bad = tmp_path / f"{name}.yaml"
    bad.write_bytes(YAML_CASES[name][0])
    with pytest.raises(LoyalsimError) as caught:
        load_policy(bad) if role == "program" else load_scenario(bad)
    assert caught.value.exit_code == _yaml_exit(name)
    assert str(bad) in str(caught.value) or any(str(bad) == issue.file for issue in caught.value.issues)


@pytest.mark.parametrize("name", sorted(DATA_CASES))
def test_the_library_refuses_each_bad_data_file(tmp_path: Path, name: str) -> None:
    from loyalsim.errors import LoyalsimError
    from loyalsim.finance.ledger_csv import read_ledger
    from loyalsim.transactions.reader import read_transactions

    bad = tmp_path / f"{name}.csv"
    bad.write_bytes(DATA_CASES[name][0])
    if DATA_CASES[name][1] == 1:  # a file that reads, with rows to reject (earn then exits 1)
        rejected = read_transactions(bad).rejected
        assert rejected and all(error.file == str(bad) and error.row >= 2 for error in rejected)
    else:
        with pytest.raises(LoyalsimError) as caught:
            read_transactions(bad)
        assert caught.value.exit_code == DATA_CASES[name][1] and bad.name in str(caught.value)
    with pytest.raises(LoyalsimError) as ledger:
        read_ledger(bad)
    assert ledger.value.exit_code == LEDGER_EXIT[name] and bad.name in str(ledger.value)


# --- through the installed command: every command that reads each kind of file (slow) ------


def _yaml_matrix() -> list[tuple[str, str, int]]:
    roles = {"program": 8, "scenario": 7}
    return [
        (name, role, index)
        for name in sorted(YAML_CASES)
        for role, count in roles.items()
        for index in range(count)
    ]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "role", "index"), _yaml_matrix())
def test_every_command_refuses_each_hostile_yaml(tmp_path: Path, name: str, role: str, index: int) -> None:
    bad = tmp_path / f"{name}.yaml"
    bad.write_bytes(YAML_CASES[name][0])
    command = _commands(tmp_path, bad, role)[index]
    result = run_cli(*command, timeout=60)
    _check(result.returncode, result.stdout, result.stderr, _yaml_exit(name), bad, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DATA_CASES))
@pytest.mark.parametrize(("role", "index"), [("transactions", 0), ("transactions", 1), ("ledger", 0)])
def test_every_command_refuses_each_bad_data_file(tmp_path: Path, name: str, role: str, index: int) -> None:
    bad = tmp_path / f"{name}.csv"
    bad.write_bytes(DATA_CASES[name][0])
    result = run_cli(*_commands(tmp_path, bad, role)[index], timeout=60)
    expected = LEDGER_EXIT[name] if role == "ledger" else DATA_CASES[name][1]
    _check(result.returncode, result.stdout, result.stderr, expected, bad, tmp_path)


def _path_matrix() -> list[tuple[str, str, int]]:
    roles = {"program": 8, "scenario": 7, "transactions": 2, "ledger": 1}
    return [
        (name, role, index)
        for name in sorted(PATH_CASES)
        for role, count in roles.items()
        for index in range(count)
    ]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "role", "index"), _path_matrix())
def test_every_command_refuses_what_is_not_a_file(tmp_path: Path, name: str, role: str, index: int) -> None:
    bad = tmp_path / f"{name}.{'yaml' if role in ('program', 'scenario') else 'csv'}"
    make, expected = PATH_CASES[name]
    make(bad)
    result = run_cli(*_commands(tmp_path, bad, role)[index], timeout=60)  # a FIFO must not block
    _check(result.returncode, result.stdout, result.stderr, expected, bad, tmp_path)
