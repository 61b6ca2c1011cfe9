"""Standard streams and odd files: a closed pipe, a device on stdin, a FIFO as a program, a bad summary."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT, loyalsim_executable, run_cli

CLASSIC = ROOT / "programs" / "classic-rewards.yaml"


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["earn", str(CLASSIC), str(DATA / "cdnow" / "cdnow_sample.csv")],
        ["earn", str(CLASSIC), str(DATA / "cdnow" / "cdnow_sample.csv"), "--format", "json"],
        ["explain", str(ROOT / "programs" / "coffee-stars.yaml")],
    ],
)
def test_a_reader_that_stops_early_is_not_an_error(args: list[str], tmp_path: Path) -> None:
    command = " ".join(f"'{a}'" for a in [loyalsim_executable(), *args])
    done = subprocess.run(
        f"set -o pipefail; {command} 2>err.txt | head -c 20 > /dev/null; echo $?",
        shell=True,
        capture_output=True,
        text=True,
        executable="/bin/bash",
        cwd=tmp_path,
        check=False,
    )
    assert done.stdout.strip() == "0", done.stdout + done.stderr
    assert "Traceback" not in (tmp_path / "err.txt").read_text()


def test_a_device_on_standard_input_is_read_only_to_the_limit() -> None:
    with Path("/dev/zero").open("rb") as zero:
        result = subprocess.run(
            [loyalsim_executable(), "validate", "-"],
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 2 and "larger than 1,048,576 bytes" in result.stdout


def test_a_fifo_given_as_a_file_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "program.yaml"
    os.mkfifo(fifo)
    result = run_cli("validate", str(fifo), timeout=30)
    assert result.returncode == 2 and "device or a pipe" in result.stdout


@pytest.mark.parametrize(
    ("summary", "said"), [("[1, 2]", "holds a list"), ('{"finance": 5}', "do not hold what")]
)
def test_report_on_a_summary_that_is_not_what_simulate_writes(
    tmp_path: Path, summary: str, said: str
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"month": ["2027-01"]}), tmp_path / "monthly.parquet")
    (tmp_path / "summary.json").write_text(summary)
    result = run_cli("report", str(tmp_path))
    assert result.returncode == 2 and said in result.stderr and "internal error" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "command", ["simulate", "sweep", "sensitivity", "check", "explain", "earn", "compare"]
)
def test_one_mapping_of_load_problems_to_exit_codes_for_every_command(command: str, tmp_path: Path) -> None:
    """YAML content errors (LS010-LS021) exit 1 and unreadable files (LS001-LS004) exit 2, whoever reads them."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: loyalsim/v1\nkind: [Program\n")
    missing = tmp_path / "missing.yaml"
    scenario, program = str(ROOT / "scenarios" / "coffee-baseline.yaml"), str(CLASSIC)
    sales = str(DATA / "transactions" / "classic-q1.csv")

    def args(bad: Path) -> list[str]:
        return {
            "simulate": ["simulate", program, str(bad)],
            "sweep": ["sweep", str(bad), scenario, "--set", "a=1"],
            "sensitivity": ["sensitivity", program, str(bad)],
            "check": ["check", str(bad)],
            "explain": ["explain", str(bad)],
            "earn": ["earn", str(bad), sales],
            "compare": ["compare", program, str(bad), scenario],
        }[command]

    for bad, code in ((broken, 1), (missing, 2)):
        result = run_cli(*args(bad))
        assert result.returncode == code, (command, bad.name, result.stdout, result.stderr)
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr
