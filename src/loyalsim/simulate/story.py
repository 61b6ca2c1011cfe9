"""One watched customer's story (``loyalsim trace``): the events of their life in both arms.

Where: the simulate stage. Every part of a replication tells its events here; with nobody
watched each call returns at once, so the parts need not ask whether anyone is. Each arm
keeps its own list (the control arm may run on a thread beside the program arm).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from loyalsim.compile.calendar import first_of_month, last_of_month
from loyalsim.population.draw import Customers
from loyalsim.population.scenario import Scenario
from loyalsim.replay.engine import MonthRows

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Event = dict[str, Any]
# Events of one day are told in this order.
ORDER = {
    "membership": 0,
    "purchase": 1,
    "points": 2,
    "dropout": 3,
    "member event": 4,
    "donation": 5,
    "statement": 6,
}
MEMBERSHIP_STATES = ("none", "trial", "paid", "ended")


class Earner(Protocol):
    """What the story reads of the program's replay engine."""

    tier: IntArray

    def earned_to_date(self, customer: int) -> int: ...


class Story:
    """The events of customer ``watch`` (None: nobody is watched, and nothing is told)."""

    def __init__(self, watch: int | None, start: int) -> None:
        self.watch = watch
        self.start = start  # the scenario's first day (absolute)
        self.events: list[Event] = []
        self.arms: dict[str, list[Event]] = {"control": [], "program": []}

    @property
    def watching(self) -> bool:
        return self.watch is not None

    def purchases(self, arm: str, day: int, who: IntArray, amounts: IntArray, numbers: IntArray) -> None:
        if self.watch is None:
            return
        mine = who == self.watch
        for amount, number in zip(amounts[mine].tolist(), numbers[mine].tolist(), strict=True):
            self.arms[arm].append(
                {"day": day, "event": "purchase", "arm": arm, "number": number, "amount": amount}
            )

    def dropout(self, arm: str, day: int, gone: BoolArray, repeats: IntArray) -> None:
        """The day the watched customer is first found gone in ``arm``."""
        if self.watch is None or not gone[self.watch]:
            return
        told = self.arms[arm]
        if not any(event["event"] == "dropout" for event in told):
            told.append({"day": day, "event": "dropout", "arm": arm, "after": int(repeats[self.watch])})

    def earned_so_far(self, engine: Earner) -> int:
        return engine.earned_to_date(self.watch) if self.watch is not None else 0

    def points(self, day: int | IntArray, who: IntArray, engine: Earner, before: int) -> None:
        """Points the watched customer earned on ``day``, if they are among ``who`` (a watched
        replication goes day by day, so ``day`` is then one day)."""
        if self.watch is None or not (who == self.watch).any():
            return
        self.events.append(
            {
                "day": day,
                "event": "points",
                "earned": engine.earned_to_date(self.watch) - before,
                "tier": int(engine.tier[self.watch]),
            }
        )

    def statement(self, rows: MonthRows) -> None:
        """The watched customer's line of a month's rows, if they have one."""
        if self.watch is None:
            return
        hit = np.flatnonzero(rows.customer == self.watch)
        if hit.size:
            i = int(hit[0])
            self.events.append(
                {
                    "day": last_of_month(first_of_month(rows.month)) - self.start,
                    "event": "statement",
                    "month": rows.month,
                    "earned": int(rows.earned[i]),
                    "redeemed": int(rows.redeemed[i]),
                    "expired": int(rows.expired[i]),
                    "balance": int(rows.balance[i]),
                    "tier": int(rows.tier[i]),
                }
            )

    def membership_state(self, state: npt.NDArray[np.int8]) -> int:
        return int(state[self.watch]) if self.watch is not None else 0

    def membership(self, day: int, before: int, state: npt.NDArray[np.int8]) -> None:
        """A change of the watched customer's paid membership (``before``: their state earlier)."""
        if self.watch is not None and int(state[self.watch]) != before:
            self.events.append(
                {"day": day, "event": "membership", "state": MEMBERSHIP_STATES[int(state[self.watch])]}
            )

    def member_event(self, day: int, who: IntArray, points: IntArray) -> None:
        if self.watch is not None and (who == self.watch).any():
            self.events.append(
                {"day": day, "event": "member event", "points": int(points[who == self.watch][0])}
            )

    def donation(self, day: int, donors: IntArray, points: IntArray, donated: IntArray) -> None:
        if self.watch is None or not (donors == self.watch).any():
            return
        i = int(np.flatnonzero(donors == self.watch)[0])
        self.events.append(
            {"day": day, "event": "donation", "points": int(points[i]), "amount": int(donated[i])}
        )

    def told(
        self,
        scenario: Scenario,
        customers: Customers,
        member: BoolArray,
        lift: Array,
        allowed: IntArray,
        never: int,
    ) -> list[Event]:
        """The whole story in order, after the customer's profile (empty with nobody watched)."""
        if self.watch is None:
            return []
        watch = self.watch
        events = self.events + self.arms["control"] + self.arms["program"]
        story = sorted(events, key=lambda e: (e["day"], ORDER[e["event"]], e.get("arm", "")))
        rate = float(customers.rate[watch] * 7)
        story.insert(
            0,
            {
                "day": int(customers.birth[watch]),
                "event": "profile",
                "segment": scenario.segments[int(customers.segment[watch])].id,
                "member": bool(member[watch]),
                "rate_per_week": rate,
                "program_rate_per_week": float(customers.rate[watch] * 7 * (1 + lift[watch]))
                if member[watch]
                else rate,
                "repeat_purchases_allowed": int(allowed[watch]) if allowed[watch] < never else None,
                **_history_of(scenario, customers, watch),
            },
        )
        return story


def _history_of(scenario: Scenario, customers: Customers, watch: int) -> dict[str, Any]:
    """What the history says of an existing customer: their repeat purchases to ``as_of``, and
    whether they were drawn as still active then (nothing for a customer drawn from a segment)."""
    origin = int(customers.origin[watch])
    history = scenario.history
    if origin < 0 or history is None or history.summary is None:
        return {}
    return {
        "existing": True,
        "history_repeat_purchases": int(history.summary.x[origin]),
        "active": bool(customers.death[watch] > -1),
    }
