"""Who joins and when (enrolment delay and self-selection), a lift that wears off, and the
synthetic transactions and members the simulator writes (``simulate --transactions``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml

from loyalsim import api
from loyalsim.population.scenario import load_scenario
from loyalsim.simulate.engine import synthetic_transactions
from loyalsim.simulate.enrolment import BEFORE, NEVER, enrolment_days, join_chance
from tests.conftest import DATA, ROOT

SCENARIO = DATA / "response" / "self-selection.yaml"
PROGRAM = ROOT / "programs" / "classic-rewards.yaml"


def scenario(tmp_path: Path, name: str, population: dict[str, Any] | None = None, **response: float) -> Path:
    data = yaml.safe_load(SCENARIO.read_text())
    data["programs"] = [str(PROGRAM)]
    data["population"].update({"initial": 20000, **(population or {})})
    data["population"]["segments"][0]["response"].update(response)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_without_a_delay_members_join_at_their_first_purchase() -> None:
    birth = np.array([0, 5, 9, -1, -1, 3])
    member = np.array([True, False, True, True, True, True])
    existing = np.array([False, False, False, True, True, False])
    zero = np.zeros(6)
    days = enrolment_days(birth, member, existing, False, zero, zero, np.ones(6), 1, 5)
    assert days.tolist() == [0, NEVER, 9, 0, 0, BEFORE]  # (the last: a referee, a member from birth)
    running = enrolment_days(birth, member, existing, True, zero, zero, np.ones(6), 1, 5)
    assert running[3] == running[4] == BEFORE  # a running book's existing members


def test_heavier_buyers_have_proportionally_higher_odds_of_joining() -> None:
    share, relative = np.full(3, 0.2), np.array([0.5, 1.0, 4.0])
    assert join_chance(share, np.zeros(3), relative) is share
    chance = join_chance(share, np.ones(3), relative)
    odds = chance / (1 - chance)
    assert chance[1] == pytest.approx(0.2)
    assert odds / odds[1] == pytest.approx(relative)


def test_delayed_members_buy_as_non_members_until_they_join(tmp_path: Path) -> None:
    """With common random numbers a member's purchases before joining are the same with a lift
    or without; after it the lift adds purchases."""
    lifted = load_scenario(scenario(tmp_path, "lifted", frequency_lift=0.5))
    plain = load_scenario(scenario(tmp_path, "plain", frequency_lift=0.0))
    policy = lifted.programs[0]
    _, a = synthetic_transactions(policy, lifted, 0)
    _, b = synthetic_transactions(policy, plain, 0)
    assert np.array_equal(a.members, b.members) and np.array_equal(a.enrolled_on, b.enrolled_on)
    enrolled = np.full(a.ids.size, np.iinfo(np.int64).max)
    enrolled[a.members] = a.enrolled_on

    def split(s: Any) -> tuple[set[tuple[int, int, int]], int]:
        before = s.day < enrolled[s.customer]
        rows = set(
            zip(s.customer[before].tolist(), s.day[before].tolist(), s.amount[before].tolist(), strict=True)
        )
        return rows, int((~before & np.isin(s.customer, a.members)).sum())

    (before_a, after_a), (before_b, after_b) = split(a), split(b)
    assert before_a == before_b and len(before_a) > 1000
    assert after_a > 1.3 * after_b  # (a lift of 0.5 on members' purchases after joining)
    # The delay: members join about 120 days after their first purchase (exponential), heavier
    # buyers sooner, so the average is below 120 and nobody joins on their first day.
    first = {}
    for c, d in zip(a.customer.tolist(), a.day.tolist(), strict=True):
        first.setdefault(c, d)
    waits = np.array(
        [e - first[c] for c, e in zip(a.members.tolist(), a.enrolled_on.tolist(), strict=True) if c in first]
    )
    assert (waits >= 1).all() and 20 < waits.mean() < 120


def test_a_lift_that_lasts_180_days_wears_off(tmp_path: Path) -> None:
    rates = {}
    for name, lift in (("on", 1.0), ("off", 0.0)):
        path = scenario(tmp_path, name, frequency_lift=lift, lift_duration=180, enrolment_selection=0.0)
        loaded = load_scenario(path)
        _, s = synthetic_transactions(loaded.programs[0], loaded, 0)
        enrolled = np.full(s.ids.size, -1)
        enrolled[s.members] = s.enrolled_on
        since = s.day - enrolled[s.customer]
        member_rows = enrolled[s.customer] >= 0
        rates[name] = (
            int((member_rows & (since >= 0) & (since < 180)).sum()),
            int((member_rows & (since >= 240) & (since < 420)).sum()),
        )
    during, after = rates["on"][0] / rates["off"][0], rates["on"][1] / rates["off"][1]
    assert 1.7 < during < 2.3, rates  # twice the rate while it lasts
    assert 0.9 < after < 1.1, rates  # the base rate again once it has worn off


def test_members_are_counted_from_the_month_they_join(tmp_path: Path) -> None:
    counts = {}
    for name, delay in (("delayed", 120.0), ("at-once", 0.0)):
        result = api.simulate(PROGRAM, scenario(tmp_path, name, enrolment_delay=delay), replications=1)
        counts[name] = [m.members for m in result.replications[0].months if m.arm == "program"]
    delayed, at_once = counts["delayed"], counts["at-once"]
    # The same customers join (the same uniforms), later: fewer members in the first months.
    assert delayed[0] < 0.7 * at_once[0] and delayed[0] < delayed[1] < delayed[2], counts
    assert at_once[0] >= at_once[1] >= at_once[2]  # (joined at once: only dropout after)


def test_synthetic_files_read_back_and_agree_with_the_simulation(tmp_path: Path) -> None:
    import duckdb

    path = scenario(tmp_path, "files")
    folder = tmp_path / "synthetic"
    written = api.write_transactions(PROGRAM, path, folder, file_format="parquet")
    purchases, members = pq.read_table(written["transactions"]), pq.read_table(written["members"])
    assert purchases.column_names == ["customer_id", "date", "amount"]
    assert members.column_names == ["customer_id", "enrolled_on"]
    by_month = duckdb.sql(
        f"select strftime(date, '%Y-%m') as month, count(*) as n, round(sum(amount), 2) as revenue "
        f"from read_parquet('{written['transactions']}') group by 1 order by 1"
    ).fetchall()
    result = api.simulate(PROGRAM, path, replications=1)
    program = [m for m in result.replications[0].months if m.arm == "program"]
    assert [row[1] for row in by_month] == [m.purchases for m in program]
    assert [row[2] for row in by_month] == pytest.approx([m.revenue / 100 for m in program], abs=1e-6)
    # Every member is a customer of the file, joined within the horizon, once.
    ids = set(purchases.column("customer_id").to_pylist())
    listed = members.column("customer_id").to_pylist()
    assert len(set(listed)) == len(listed) and set(listed) <= ids
    dates = members.column("enrolled_on").to_pylist()
    assert min(dates).isoformat() >= "2027-01-01" and max(dates).isoformat() <= "2028-12-31"
    # The CSV says the same.
    csv_folder = api.write_transactions(PROGRAM, path, tmp_path / "csv")
    assert pacsv.read_csv(csv_folder["transactions"]).num_rows == purchases.num_rows


def test_a_historys_customers_keep_their_ids_and_join_at_their_first_purchase(tmp_path: Path) -> None:
    book = ROOT / "scenarios" / "cdnow-book.yaml"
    written = api.write_transactions(PROGRAM, book, tmp_path / "book")
    members = pacsv.read_csv(
        written["members"], convert_options=pacsv.ConvertOptions(column_types={"customer_id": "string"})
    )
    cdnow = pacsv.read_csv(
        DATA / "cdnow" / "cdnow_sample.csv",
        convert_options=pacsv.ConvertOptions(column_types={"customer_id": "string"}),
    )
    first: dict[str, Any] = {}
    for c, d in zip(cdnow.column("customer_id").to_pylist(), cdnow.column("date").to_pylist(), strict=True):
        first[c] = min(first.get(c, d), d)
    listed = dict(
        zip(members.column("customer_id").to_pylist(), members.column("enrolled_on").to_pylist(), strict=True)
    )
    assert len(listed) == 2357 and all(listed[c] == first[c] for c in listed)
