"""The simulate stage: a Policy and a Scenario → monthly results per replication (program and control)."""

from __future__ import annotations

from loyalsim.compile.policy import Policy
from loyalsim.population.scenario import Scenario
from loyalsim.simulate.engine import run_replication
from loyalsim.simulate.results import MonthResult, Replication

__all__ = ["MonthResult", "Replication", "run_replication", "simulate"]


def simulate(policy: Policy, scenario: Scenario) -> list[Replication]:
    """Every replication in order; each is seeded by its index alone (SeedSequence.spawn)."""
    return [run_replication(policy, scenario, index) for index in range(scenario.replications)]
