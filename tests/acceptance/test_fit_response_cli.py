"""`loyalsim fit response` end to end on data `simulate --transactions` wrote: the JSON's
shape, the fragment that drops into a scenario, the report, and bad input with row, column
and exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import DATA, ROOT, run_cli
from tests.helpers import synthetic_data

pytestmark = pytest.mark.slow
PROGRAM = str(ROOT / "programs" / "classic-rewards.yaml")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Transactions and members of 20,000 simulated customers, self-selected into the program."""
    data: Path = synthetic_data(tmp_path_factory.mktemp("synthetic"))
    return data


def test_json_gives_the_estimates_the_naive_ratio_and_the_quarters(synthetic: Path) -> None:
    done = run_cli(
        "fit",
        "response",
        str(synthetic / "transactions.csv"),
        "--members",
        str(synthetic / "members.csv"),
        "-f",
        "json",
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    for name in ("frequency_lift", "spend_lift"):
        assert set(payload[name]) == {"estimate", "ci_low", "ci_high"}
        assert payload[name]["ci_low"] < payload[name]["estimate"] < payload[name]["ci_high"]
    assert payload["naive"]["frequency_lift"] > 1.0  # heavier buyers joined
    # (Whether the interval covers the truth is the recovery tests' question, over many seeds.)
    assert payload["frequency_lift"]["estimate"] < payload["naive"]["frequency_lift"] / 3
    assert [row["quarter"] for row in payload["by_quarter"]][:4] == [1, 2, 3, 4]
    assert payload["churn_reduction"] is None and payload["window_quarters"] == 4
    assert payload["measured_members"] < payload["members"] and payload["non_members"] > 10000


def test_the_fragment_drops_into_a_scenario_and_the_report_is_written(
    synthetic: Path, tmp_path: Path
) -> None:
    out = tmp_path / "response.yaml"
    done = run_cli(
        "fit",
        "response",
        str(synthetic / "transactions.csv"),
        "--members",
        str(synthetic / "members.csv"),
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert (
        "frequency_lift" in done.stdout and "naive" in done.stdout and f"wrote response: {out}" in done.stdout
    )
    fragment = yaml.safe_load(out.read_text())
    lift = fragment["response"]["frequency_lift"]
    assert set(lift) == {"mean", "sd"} and lift["sd"] > 0
    scenario = yaml.safe_load((DATA / "response" / "self-selection.yaml").read_text())
    scenario["programs"] = [PROGRAM]
    scenario["population"]["segments"][0]["response"].update(fragment["response"])
    target = tmp_path / "fitted.yaml"
    target.write_text(yaml.safe_dump(scenario))
    assert run_cli("validate", str(target)).returncode == 0
    report = out.with_suffix(".report.html").read_text()
    assert 'id="lift-by-quarter"' in report and 'id="estimates"' in report


def _members(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "members.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("members", "message", "code"),
    [
        (
            "customer_id,enrolled_on\nnobody,2027-03-01\n",
            "row 2, column 'customer_id': customer 'nobody' has no transaction",
            2,
        ),
        (
            "customer_id,enrolled_on\n1,2027-03-01\n1,2027-04-01\n",
            "row 3, column 'customer_id': customer '1' is listed again (first at row 2)",
            2,
        ),
        (
            "customer_id,enrolled_on\n1,03/01/2027\n",
            "row 2, column 'enrolled_on': '03/01/2027' is not a date",
            2,
        ),
        (
            "customer_id,enrolled_on\n1,2031-01-01\n",
            "row 2, column 'enrolled_on': 2031-01-01 is outside the transactions",
            2,
        ),
        ("customer,joined\n1,2027-03-01\n", "no column 'customer_id'", 2),
        (
            "customer_id,enrolled_on\n1,2027-03-01\n2,\n",
            "members bought for more than 91 days before enrolling",
            1,
        ),
    ],
)
def test_bad_members_files_get_a_clear_message(
    synthetic: Path, tmp_path: Path, members: str, message: str, code: int
) -> None:
    done = run_cli(
        "fit", "response", str(synthetic / "transactions.csv"), "--members", str(_members(tmp_path, members))
    )
    assert done.returncode == code, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_missing_members_file_and_a_renamed_column(synthetic: Path, tmp_path: Path) -> None:
    done = run_cli(
        "fit", "response", str(synthetic / "transactions.csv"), "--members", str(tmp_path / "none.csv")
    )
    assert done.returncode == 2 and "no such file" in done.stderr
    renamed = tmp_path / "renamed.csv"
    renamed.write_text((synthetic / "members.csv").read_text().replace('"enrolled_on"', '"joined"', 1))
    done = run_cli(
        "fit",
        "response",
        str(synthetic / "transactions.csv"),
        "--members",
        str(renamed),
        "--members-column",
        "enrolled_on=joined",
        "-f",
        "json",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["members"] > 1000


def test_no_non_members_is_refused(synthetic: Path, tmp_path: Path) -> None:
    """Everyone enrolled: no one to set the naive comparison against."""
    import pyarrow.csv as pacsv

    ids = pacsv.read_csv(synthetic / "transactions.csv").column("customer_id").unique().to_pylist()
    everyone = "customer_id,enrolled_on\n" + "".join(f"{c},2027-06-01\n" for c in ids)
    done = run_cli(
        "fit", "response", str(synthetic / "transactions.csv"), "--members", str(_members(tmp_path, everyone))
    )
    assert done.returncode == 1 and "customers never enrolled" in done.stderr
