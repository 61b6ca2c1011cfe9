"""The memory check before a simulation: what it counts, when it refuses, how to turn it off."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from loyalsim.errors import UsageError
from loyalsim.run import memory


@dataclass
class Scenario:
    initial: int
    arrivals_per_month: float
    days: int
    file: str = "s.yaml"


def test_customers_count_the_initial_ones_and_every_arrival() -> None:
    assert memory.customers(Scenario(1000, 0, 365)) == 1000
    assert memory.customers(Scenario(1000, 100, 1096)) == 1000 + 3600  # 36 months of arrivals


def test_refused_only_when_the_replications_running_at_once_do_not_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 12 * 2**30)
    fits = Scenario(4_000_000, 0, 365)  # 5.6e9 bytes a replication
    memory.check([fits], at_once=2)
    with pytest.raises(
        UsageError,
        match=r"s.yaml: 4,000,000 customers need about 15.6 GB .*3 replication\(s\) "
        r"at once.*12.0 GB available",
    ):
        memory.check([Scenario(10, 0, 365), fits], at_once=3)
    monkeypatch.setenv("LOYALSIM_MEMORY_CHECK", "0")
    memory.check([fits], at_once=3)


def test_unknown_memory_is_not_a_reason_to_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: None)
    memory.check([Scenario(10**9, 0, 365)], at_once=1)


def test_this_machine_reports_its_available_memory() -> None:
    available = memory.available_bytes()
    assert available is not None and available > 2**20
