"""The trace story of every bundled scenario: each event kind is ordered and rendered."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from loyalsim.compile import load_policy
from loyalsim.population.scenario import load_scenario
from loyalsim.report.trace import render
from loyalsim.simulate import run_replication

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def _program_of(scenario: Path) -> Path:
    found = re.search(r"^programs: \[\.\./(programs/[a-z-]+\.yaml)\]", scenario.read_text(), re.MULTILINE)
    assert found, scenario
    return ROOT / found.group(1)


@pytest.mark.slow  # a watched replication goes day by day
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_every_bundled_scenario_tells_a_story(scenario: Path) -> None:
    policy = load_policy(_program_of(scenario))
    loaded = load_scenario(scenario)
    loaded = dataclasses.replace(loaded, initial=min(loaded.initial, 100))  # (a story needs no crowd)
    kinds: set[str] = set()
    for customer in range(2):
        story = run_replication(policy, loaded, 0, watch=customer).story
        assert story[0]["event"] == "profile"
        days = [event["day"] for event in story[1:]]
        assert days == sorted(days)
        text = render(story, policy, loaded.start, customer)
        assert text.startswith(f"Customer {customer} ")
        kinds |= {event["event"] for event in story}
    assert {"profile", "purchase"} <= kinds  # statements only for members


@pytest.mark.slow
def test_a_member_event_is_told() -> None:
    scenario = ROOT / "scenarios" / "community-engagement.yaml"
    policy = load_policy(_program_of(scenario))
    loaded = dataclasses.replace(
        load_scenario(scenario), initial=200, arrivals_per_month=0
    )  # (the first eight)
    told = [run_replication(policy, loaded, 0, watch=customer).story for customer in range(8)]
    events = [(story, event) for story in told for event in story if event["event"] == "member event"]
    assert events, "no customer of the first eight has a dated member event"
    story, event = events[0]
    assert event["points"] > 0
    assert "for a dated member event" in render(story, policy, loaded.start, 0)
