"""One runner, three backends: identical results bit for bit, and a killed run resumes to the same answer."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT, loyalsim_executable, run_cli
from tests.helpers import small_scenario

# Every test here starts several processes or a browser: the full run only (make test).
pytestmark = pytest.mark.slow

PROGRAM = str(ROOT / "programs" / "coffee-stars.yaml")
SWEEP = [
    "--set",
    "earn[0].rate=1,2",
    "--set",
    "population.segments[0].response.redemption_propensity=0.3,0.9",
]


def sweep(tmp_path: Path, name: str, *extra: str) -> tuple[bytes, bytes]:
    scenario = small_scenario(tmp_path, initial=1200, arrivals=20, horizon="4 months")
    out = tmp_path / name
    result = run_cli(
        "sweep", PROGRAM, str(scenario), *SWEEP, "--replications", "3", "--out", str(out), *extra, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "distributed." not in result.stderr  # no Dask log lines
    assert not (out / ".loyalsim-parts").exists()  # checkpoints are removed once the results are written
    return (out / "sweep.csv").read_bytes(), (out / "sweep.json").read_bytes()


def test_sweep_is_identical_in_process_on_workers_and_on_a_two_worker_local_cluster(tmp_path: Path) -> None:
    inline = sweep(tmp_path, "inline")
    assert sweep(tmp_path, "workers", "--workers", "2") == inline
    assert sweep(tmp_path, "dask", "--cluster", "local", "--workers", "2") == inline
    rows = json.loads(inline[1])["points"]
    assert len(rows) == 4 and len({r["points_issued_mean"] for r in rows}) > 1


def test_a_bad_cluster_address_is_a_usage_error(tmp_path: Path) -> None:
    scenario = small_scenario(tmp_path, initial=100, arrivals=0, horizon="1 month")
    result = run_cli(
        "simulate", PROGRAM, str(scenario), "--cluster", "http://nowhere", "--out", str(tmp_path / "o")
    )
    assert result.returncode == 2 and "--cluster" in result.stderr and "Traceback" not in result.stderr


def simulate_command(scenario: Path, out: Path, *extra: str) -> list[str]:
    return [
        loyalsim_executable(),
        "simulate",
        PROGRAM,
        str(scenario),
        "--replications",
        "10",
        "--out",
        str(out),
        "--format",
        "json",
        *extra,
    ]


@pytest.mark.parametrize(
    ("how", "extra"),
    [("sigkill", ()), ("sigint", ("--workers", "2")), ("sigint", ("--cluster", "local", "--workers", "2"))],
)
def test_a_killed_run_resumes_and_gives_the_same_answer(
    tmp_path: Path, how: str, extra: tuple[str, ...]
) -> None:
    scenario = small_scenario(tmp_path, initial=12000, arrivals=100, horizon="8 months")
    reference = tmp_path / "reference"
    whole = subprocess.run(
        simulate_command(scenario, reference), capture_output=True, timeout=600, check=False
    )
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "interrupted"
    parts = out / ".loyalsim-parts"
    # The run must see Ctrl-C as a terminal would send it: a test runner's worker may have SIGINT
    # ignored, and an ignored signal stays ignored in its children (Python then installs no
    # KeyboardInterrupt handler), so the child gets the default disposition back.
    process = subprocess.Popen(
        simulate_command(scenario, out, *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(parts.glob("*.json"))) < 3 and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be interrupted"
    if how == "sigkill":  # a crash: the whole process group dies at once
        os.killpg(process.pid, signal.SIGKILL)
    else:  # Ctrl-C on a terminal: SIGINT to the whole process group
        os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == (-signal.SIGKILL if how == "sigkill" else 130), stderr
    # Nothing from Dask reaches the terminal: its workers printed four KeyboardInterrupt tracebacks.
    assert b"Traceback" not in stderr and b"distributed." not in stderr and b"KeyboardInterrupt" not in stderr
    if how == "sigint":
        assert b"run the same command to resume" in stderr
    saved = len(list(parts.glob("*.json")))
    assert 3 <= saved < 10 and not (out / "monthly.csv").exists()
    resumed = subprocess.run(
        simulate_command(scenario, out, *extra), capture_output=True, timeout=600, check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming; {saved} of 10 replication(s) were already done".encode() in resumed.stderr
    assert (out / "monthly.csv").read_bytes() == (reference / "monthly.csv").read_bytes()
    assert resumed.stdout == whole.stdout  # summary.json as printed
    assert pq.read_table(out / "monthly.parquet").equals(pq.read_table(reference / "monthly.parquet"))


def test_a_killed_dask_worker_is_replaced_and_its_work_redone(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    scenario = small_scenario(tmp_path, initial=12000, arrivals=100, horizon="8 months")
    reference = tmp_path / "reference"
    whole = subprocess.run(
        simulate_command(scenario, reference), capture_output=True, timeout=600, check=False
    )
    assert whole.returncode == 0, whole.stderr
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as cluster,
        Client(cluster) as client,
    ):
        out = tmp_path / "dask"
        process = subprocess.Popen(
            simulate_command(scenario, out, "--cluster", cluster.scheduler_address),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        parts = out / ".loyalsim-parts"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and len(list(parts.glob("*.json"))) < 2 and process.poll() is None:
            time.sleep(0.05)
        assert process.poll() is None, "the run finished before a worker could be killed"
        victim = next(iter(client.run(os.getpid).values()))
        os.kill(victim, signal.SIGKILL)  # the nanny starts a new worker; the scheduler reschedules its tasks
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr
    assert (out / "monthly.csv").read_bytes() == (reference / "monthly.csv").read_bytes()
    assert stdout == whole.stdout


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
@pytest.mark.parametrize("wait", [0.0, 1.0])  # while the workers start; inside a replication
def test_workers_end_when_their_parent_is_killed(tmp_path: Path, wait: float) -> None:
    # SIGKILL to the parent alone (not its group) used to leave its worker processes (300 MB
    # each) and the resource tracker running, in 7 of 10 runs.
    scenario = small_scenario(tmp_path, initial=40000, arrivals=100, horizon="12 months")
    out = tmp_path / "o"
    process = subprocess.Popen(
        simulate_command(scenario, out, "--workers", "2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        children: set[int] = set()
        while time.monotonic() < deadline and process.poll() is None:
            children = _children(process.pid)
            if len(children) >= 3:  # two workers and the resource tracker
                break
            time.sleep(0.1)
        assert process.poll() is None and len(children) >= 3, "the workers did not start"
        time.sleep(wait)
        process.kill()
        process.wait(timeout=30)
        deadline = time.monotonic() + 15
        alive = children
        while alive and time.monotonic() < deadline:
            time.sleep(0.2)
            alive = {
                pid
                for pid in alive
                if Path(f"/proc/{pid}").exists()
                and "Z" not in (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0])
            }
        states = {
            pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:80]
            for pid in alive
            if Path(f"/proc/{pid}").exists()
        }
        assert not alive, f"{len(alive)} of {len(children)} children outlived their parent by 15 s: {states}"
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever is left of its session
            os.killpg(process.pid, signal.SIGKILL)
