"""A response to what the program gives: the value a program returns per unit of spend, measured
by its own rules, and the frequency lift that follows it with diminishing returns."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml

from loyalsim import api
from loyalsim.compile import load_policy
from loyalsim.population.scenario import load_scenario
from loyalsim.simulate.program_value import lift_factors, value_per_spend
from tests.conftest import ROOT

BASELINE = ROOT / "scenarios" / "coffee-baseline.yaml"
STARS = ROOT / "programs" / "coffee-stars.yaml"


def program(tmp_path: Path, name: str, rate: float, *, expiry: bool = False) -> Path:
    """A plain points program: ``rate`` points a dollar, a point worth a cent, no rounding loss."""
    document: dict[str, Any] = {
        "apiVersion": "loyalsim/v1",
        "kind": "Program",
        "metadata": {"name": name, "currency": "USD"},
        "type": "points",
        "points": {"name": "points", "value": 0.01, "decimals": 2, "rounding": "exact"},
        "earn": [{"id": "base", "kind": "spend", "rate": rate}],
        "rewards": {
            "catalog": [{"id": "five", "name": "$5 off", "kind": "discount", "cost": 500, "face_value": 5.0}],
            "redemption": {"policy": "auto"},
        },
    }
    if expiry:
        document["expiry"] = [{"kind": "rolling", "after": "1 month"}]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_the_value_of_points_is_their_worth_per_dollar_less_what_expires(tmp_path: Path) -> None:
    segment = load_scenario(BASELINE).segments[0]
    one, two = (load_policy(program(tmp_path, f"p{r}", r)) for r in (1, 2))
    # A point a dollar, worth a cent: one cent back a dollar, to the rounding of a cent.
    assert value_per_spend(one, segment) == pytest.approx(0.01, rel=1e-3)
    assert value_per_spend(two, segment) == pytest.approx(2 * value_per_spend(one, segment), rel=1e-3)
    short = load_policy(program(tmp_path, "short", 1, expiry=True))
    assert value_per_spend(short, segment) < 0.6 * value_per_spend(one, segment)  # most expire unspent
    # The bundled programs by their own rules: stars at $2 for 60 are worth 3.3 cents a dollar
    # (more with the tiers' multipliers), cashback is its rate.
    stars = value_per_spend(load_policy(STARS), segment)
    assert 0.025 < stars < 0.0333 * 1.7
    classic = value_per_spend(load_policy(ROOT / "programs" / "classic-rewards.yaml"), segment)
    assert classic < stars / 5  # (CDNOW-like baskets rarely reach its $50 band)


def test_the_lift_follows_the_value_with_diminishing_returns(tmp_path: Path) -> None:
    scenario = load_scenario(BASELINE)
    assert lift_factors(load_policy(STARS), scenario)[0] == 1.0  # the reference reproduces the stated lift
    factors = [
        lift_factors(load_policy(program(tmp_path, f"r{int(r * 100)}", r)), scenario)[0]
        for r in (0.5, 1, 2, 4)
    ]
    assert factors == sorted(factors) and factors[0] > 0
    gains = [b - a for a, b in itertools.pairwise(factors)]
    assert gains[0] > gains[1] / 2 > gains[2] / 4  # each doubling adds less than twice the last
    nothing = load_policy(program(tmp_path, "none", 0.0))
    assert lift_factors(nothing, scenario)[0] == 0.0


def test_doubling_the_earn_rate_raises_members_purchases_only_with_the_response(tmp_path: Path) -> None:
    data = yaml.safe_load(BASELINE.read_text())
    data["programs"] = [str(STARS)]
    data["population"].update({"initial": 20000, "arrivals_per_month": 0})
    data["horizon"] = "12 months"
    data.pop("guardrails")
    purchases = {}
    for response in ("on", "off"):
        if response == "off":
            data["population"]["segments"][0]["response"].pop("value_response")
        else:
            data["population"]["segments"][0]["response"]["value_response"]["reference"] = str(
                STARS
            )  # (not the swept copy)
        path = tmp_path / f"{response}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        for rate in (1, 2):
            text = STARS.read_text().replace("    rate: 1\n", f"    rate: {rate}\n", 1)
            changed = tmp_path / f"stars-{rate}.yaml"
            changed.write_text(text)
            result = api.simulate(changed, path, replications=2)
            purchases[response, rate] = sum(
                m.purchases for r in result.replications for m in r.months if m.arm == "program"
            )
    assert purchases["on", 2] > purchases["on", 1] * 1.002
    assert purchases["off", 2] == purchases["off", 1]  # a stated lift ignores what the program gives
    assert purchases["on", 1] == purchases["off", 1]  # (the reference program: the stated lift)


@pytest.mark.slow
def test_a_sweep_of_the_earn_rate_finds_a_best_rate(tmp_path: Path) -> None:
    """On the bundled coffee scenario: net benefit rises with the earn rate, then falls."""
    result = api.sweep(STARS, BASELINE, ["earn[0].rate=0.25,0.5,1,2,4"], replications=4)
    net = [row["net_benefit_mean"] for row in result.rows]
    best = net.index(max(net))
    assert 0 < best < len(net) - 1, net
    assert all(a < b for a, b in itertools.pairwise(net[: best + 1])), net
    assert all(a > b for a, b in itertools.pairwise(net[best:])), net
