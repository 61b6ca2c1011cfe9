"""`loyalsim simulate` end to end: outputs read back with pyarrow and duckdb."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT, run_cli
from tests.helpers import small_scenario


@pytest.mark.slow
def test_simulate_writes_monthly_results_and_a_stamped_summary(tmp_path: Path) -> None:
    path = small_scenario(tmp_path, initial=3000, arrivals=100)
    out = tmp_path / "sim"
    result = run_cli(
        "simulate",
        str(ROOT / "programs" / "coffee-stars.yaml"),
        str(path),
        "--replications",
        "2",
        "--out",
        str(out),
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary == json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 2 and len(summary["program"]["content_hash"]) == 64
    table = pq.read_table(out / "monthly.parquet")
    assert table.num_rows == 2 * 6 * 2  # replications x months x arms
    assert json.loads(table.schema.metadata[b"loyalsim"])["seed"] == 20270101
    rows = duckdb.sql(
        f"select arm, sum(purchases) from read_parquet('{out / 'monthly.parquet'}') group by arm order by arm"
    ).fetchall()
    assert [arm for arm, _ in rows] == ["control", "program"] and all(total > 0 for _, total in rows)
    # Conservation per earn cohort, at every month end, read back with duckdb from cohorts.parquet.
    cohorts = f"read_parquet('{out / 'cohorts.parquet'}')"
    assert duckdb.sql(
        f"select count(*) from {cohorts} where abs(issued - redeemed - expired - outstanding) > 1e-9"
    ).fetchall() == [(0,)]
    # The cohorts' outstanding points add up to the month's outstanding points in the monthly table.
    joined = duckdb.sql(
        f"select m.points_outstanding, c.total from read_parquet('{out / 'monthly.parquet'}') m join "
        f"(select replication, month, sum(outstanding) total from {cohorts} where kind = 'points' group by all) c "
        "using (replication, month) where m.arm = 'program'"
    ).fetchall()
    assert len(joined) == 2 * 6 and all(abs(a - b) < 1e-9 for a, b in joined)
    cohorts = summary["cohorts"]  # per earn cohort: shares so far and the projected ultimate redemption rate
    assert len(cohorts) == 6 and all(
        c["redeemed_share"] <= c["ultimate_redemption_rate"] <= 1 - c["expired_share"] for c in cohorts
    )
    economics = summary["economics"]
    assert economics["program_cost"]["mean"] > 0 and "npv" in economics and "roi" in economics
    # Per replication, and every flow with its present value, recomputed from the monthly table.
    monthly = pq.read_table(out / "monthly.parquet").to_pylist()
    per = economics["per_replication"]
    for name in ("program_cost", "reward_cost", "fixed_costs", "points_revenue", "incremental_gross_margin"):
        for rep in (0, 1):
            rows = [r for r in monthly if r["arm"] == "program" and r["replication"] == rep]
            assert per[name][rep] == pytest.approx(sum(r[name] for r in rows))
            assert per[f"{name}_pv"][rep] == pytest.approx(sum(r[name] * r["discount_factor"] for r in rows))
        assert economics[name]["mean"] == pytest.approx(sum(per[name]) / 2)
    assert per["npv"] == pytest.approx(
        [a - b for a, b in zip(per["incremental_gross_margin_pv"], per["program_cost_pv"], strict=True)]
    )
    month = next(r for r in pq.read_table(out / "monthly.parquet").to_pylist() if r["arm"] == "program")
    assert month["net_benefit"] == month["incremental_gross_margin"] - month["program_cost"]
    again = run_cli(
        "simulate",
        str(ROOT / "programs" / "coffee-stars.yaml"),
        str(path),
        "--replications",
        "2",
        "--out",
        str(tmp_path / "again"),
        "--format",
        "json",
    )
    assert (tmp_path / "again" / "monthly.csv").read_text() == (out / "monthly.csv").read_text()
    assert again.returncode == 0


@pytest.mark.slow
def test_trace_tells_a_members_story() -> None:
    program, scenario = (
        str(ROOT / "programs" / "coffee-stars.yaml"),
        str(ROOT / "scenarios" / "coffee-baseline.yaml"),
    )
    result = run_cli("trace", program, scenario, "--customer", "2", "--format", "json")
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout)["events"]
    profile = events[0]
    assert profile["event"] == "profile" and profile["member"] is True
    kinds = {e["event"] for e in events}
    assert {"purchase", "points", "statement"} <= kinds
    # Both arms see the same first purchase (common random numbers).
    firsts = [e for e in events if e["event"] == "purchase" and e["number"] == 0]
    assert {e["arm"] for e in firsts} == {"program", "control"} and len({e["amount"] for e in firsts}) == 1
    text = run_cli("trace", program, scenario, "--customer", "2").stdout
    assert "a program member" in text and "statement" in text and "no change" in text
    assert run_cli("trace", program, scenario, "--customer", "99999999").returncode == 2


@pytest.mark.slow
def test_compare_pairs_two_programs_on_the_same_customers(tmp_path: Path) -> None:
    path = small_scenario(tmp_path)
    out = tmp_path / "cmp"
    result = run_cli(
        "compare",
        str(ROOT / "programs" / "coffee-stars.yaml"),
        str(ROOT / "programs" / "hybrid-rewards.yaml"),
        str(path),
        "--replications",
        "3",
        "--out",
        str(out),
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)["figures"]
    assert figures["points_issued"]["b_minus_a"]["mean"] != 0
    assert figures["points_issued"]["b_minus_a"]["p5"] <= figures["points_issued"]["b_minus_a"]["p95"]
    # Common random numbers: the no-program control is the very same in both runs.
    a = pq.read_table(out / "a" / "monthly.parquet").to_pydict()
    b = pq.read_table(out / "b" / "monthly.parquet").to_pydict()
    control = [
        (r, m, p, v)
        for r, m, arm, p, v in zip(
            a["replication"], a["month"], a["arm"], a["purchases"], a["revenue"], strict=True
        )
        if arm == "control"
    ]
    control_b = [
        (r, m, p, v)
        for r, m, arm, p, v in zip(
            b["replication"], b["month"], b["arm"], b["purchases"], b["revenue"], strict=True
        )
        if arm == "control"
    ]
    assert control == control_b and control
    assert (out / "compare.json").exists()


@pytest.mark.slow
def test_perk_costs_and_donations_reach_the_monthly_table_and_program_cost(tmp_path: Path) -> None:
    import yaml

    path = small_scenario(tmp_path, initial=2000, arrivals=0, replications=1)
    scenario = yaml.safe_load(path.read_text())
    scenario["population"]["segments"][0]["response"]["donation_propensity"] = 0.5
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    giving = tmp_path / "giving.yaml"
    giving.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "loyalsim/v1",
                "kind": "Program",
                "metadata": {"name": "giving", "currency": "USD"},
                "type": "value",
                "points": {"name": "points", "value": 0.01},
                "earn": [{"id": "base", "kind": "spend", "rate": 10}],
                "value": {"donations": {"points_to_donation": {"points": 500, "amount": 5, "match_rate": 1}}},
            }
        )
    )
    for program, out in (
        (ROOT / "programs" / "paid-membership.yaml", tmp_path / "paid"),
        (giving, tmp_path / "give"),
    ):
        result = run_cli("simulate", str(program), str(path), "--out", str(out), "--format", "json")
        assert result.returncode == 0, result.stderr
    monthly = f"read_parquet('{tmp_path / 'paid' / 'monthly.parquet'}')"
    # Free shipping at $5.99 a use and $36 a year of streaming per subscriber: $3.00 a month each.
    ((perks, subscribers),) = duckdb.sql(
        f"select sum(perk_cost), sum(subscribers) from {monthly} where arm = 'program'"
    ).fetchall()
    assert perks > 3.0 * subscribers > 0
    monthly = f"read_parquet('{tmp_path / 'give' / 'monthly.parquet'}')"
    ((donated_points, donations, matched, reward_cost),) = duckdb.sql(
        f"select sum(points_donated), sum(donations), sum(donations_matched), sum(reward_cost) from {monthly} "
        "where arm = 'program'"
    ).fetchall()
    # 500 points give $5, matched one for one; the donated points cost their donation, not a reward.
    assert donated_points > 0 and donations == pytest.approx(donated_points / 500 * 5 * 2)
    assert matched == pytest.approx(donations / 2) and reward_cost == 0


@pytest.mark.slow
def test_a_population_that_cannot_fit_in_memory_is_refused_before_it_starts(tmp_path: Path) -> None:
    # 900 million customers need about a terabyte: refused at once, with the figures and the ways out.
    path = small_scenario(tmp_path, initial=900_000_000, arrivals=0)
    out = tmp_path / "sim"
    result = run_cli("simulate", str(ROOT / "programs" / "coffee-stars.yaml"), str(path), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert "900,000,000 customers need about 1,173.5 GB" in result.stderr
    assert "reduce population.initial" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.slow
def test_a_run_that_would_not_end_is_refused_at_once(tmp_path: Path) -> None:
    import yaml

    scenario = yaml.safe_load((ROOT / "scenarios" / "coffee-baseline.yaml").read_text())
    scenario["programs"] = [str(ROOT / "programs" / "coffee-stars.yaml")]
    scenario["population"]["segments"][0]["purchase"]["params"]["alpha"] = 1e-6
    path = tmp_path / "fast.yaml"
    path.write_text(yaml.safe_dump(scenario))
    result = run_cli(
        "simulate",
        str(ROOT / "programs" / "coffee-stars.yaml"),
        str(path),
        "--out",
        str(tmp_path / "out"),
        timeout=60,
    )
    assert result.returncode == 2 and "would take about" in result.stderr and "r/alpha" in result.stderr
    assert not (tmp_path / "out" / "summary.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("program", "shown", "absent"),
    [
        (
            "pharmacy-cashback",
            ["cashback accrued", "cashback payable at end"],
            ["points issued", "subscribers"],
        ),
        (
            "paid-membership",
            ["subscribers at end", "fees billed", "deferred fees at end"],
            ["cashback accrued"],
        ),
        (
            "coffee-stars",
            ["stars issued", "peak liability at cost", "the first stars expire 6 months"],
            ["cashback accrued", "subscribers"],
        ),
    ],
)
def test_the_text_summary_leads_with_money_and_shows_what_the_program_has(
    tmp_path: Path, program: str, shown: list[str], absent: list[str]
) -> None:
    scenario = small_scenario(tmp_path, initial=1500, arrivals=20, horizon="12 months")
    result = run_cli(
        "simulate",
        str(ROOT / "programs" / f"{program}.yaml"),
        str(scenario),
        "--replications",
        "2",
        "--out",
        str(tmp_path / "out"),
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    lines = text.splitlines()
    money = [
        next(i for i, line in enumerate(lines) if line.strip().startswith(label))
        for label in ("program cost", "incremental gross margin", "NPV of the net benefit", "ROI")
    ]
    assert money == sorted(money) and money[0] < next(
        i for i, line in enumerate(lines) if "purchases" in line
    )
    for label in shown:
        assert label in text, (label, text)
    for label in absent:
        assert label not in text, (label, text)


def test_every_program_whose_mechanics_need_a_response_has_a_bundled_scenario_giving_it() -> None:
    """LS309 fires for a program on coffee-baseline exactly when some other bundled scenario exists for it."""
    import yaml

    from loyalsim.load import load_text
    from loyalsim.validate import validate_document
    from tests.conftest import PROGRAMS, SCENARIOS

    named = {}
    for path in SCENARIOS:
        for program in yaml.safe_load(path.read_text())["programs"]:
            named.setdefault(Path(program).name, []).append(path)
    baseline = yaml.safe_load((ROOT / "scenarios" / "coffee-baseline.yaml").read_text())
    for program in PROGRAMS:
        baseline["programs"] = [str(program)]
        loaded = load_text(yaml.safe_dump(baseline), str(ROOT / "scenarios" / "probe.yaml"))
        assert loaded.document is not None
        if any(i.code == "LS309" for i in validate_document(loaded.document)[1]):
            assert program.name in named, f"{program.name} needs a bundled scenario with its responses"
            for path in named[program.name]:
                own = load_text(path.read_text(), str(path))
                assert own.document is not None
                said = [
                    i
                    for i in validate_document(own.document)[1]
                    if i.code == "LS309" and "LS309" not in own.document.suppressions.get(i.line, frozenset())
                ]  # acknowledged there
                assert not said, (path, said)
