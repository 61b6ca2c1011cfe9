"""The program arm's members: who is enrolled now, and their purchases credited through the program.

Where: the simulate stage. A member's purchases go through the same replay engine as
``loyalsim earn`` (one implementation of every rule), as transactions of the simulated
day with the purchase's number in the customer's life standing as its time of day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from loyalsim.compile.mechanics import Donations
from loyalsim.population.draw import Customers
from loyalsim.replay.engine import ReplayEngine
from loyalsim.simulate import streams
from loyalsim.simulate.arms import Bought, Tally
from loyalsim.simulate.membership import Memberships
from loyalsim.simulate.spending import Basket
from loyalsim.simulate.story import Story
from loyalsim.transactions.reader import Transactions

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Members:
    """Enrolment (``member``: joins on their ``enrol_day``, ``simulate.enrolment``) and paid
    membership, if any."""

    member: BoolArray
    memberships: Memberships | None
    enrol_day: IntArray

    def enrolled(self, who: IntArray) -> BoolArray:
        """Who the program treats as a member once enrolled: members, and subscribed when
        membership is paid (the rates' view: the member rate applies from the enrolment day on)."""
        if self.memberships is None:
            active: BoolArray = self.member[who]
            return active
        subscribed: BoolArray = self.member[who] & self.memberships.active_of(who)
        return subscribed

    def enrolled_on(self, who: IntArray, day: int | IntArray) -> BoolArray:
        """Who of ``who`` is a member on ``day`` (a day offset, or one per customer): enrolled
        by then, and subscribed when membership is paid."""
        joined: BoolArray = self.enrolled(who) & (self.enrol_day[who] <= day)
        return joined


@dataclass(frozen=True)
class Chooser:
    """Which members able to afford a reward redeem at the end of a day: one uniform per member and day."""

    key: int
    start: int  # the scenario's first day (absolute)
    propensity: npt.NDArray[np.float64]  # per customer: the chance of redeeming on a day they can

    def __call__(self, able: IntArray, day: int) -> BoolArray:
        u = streams.uniforms(self.key, streams.CHOICE, able, np.full(able.size, day - self.start))
        decided: BoolArray = u < self.propensity[able]
        return decided


@dataclass
class Crediting:
    """Members' purchases through the program's replay engine (``engine``), counted in ``tally``."""

    members: Members
    engine: ReplayEngine
    customers: Customers
    start: int  # the scenario's first day (absolute)
    key: int
    basket: Basket | None
    donations: Donations | None
    tally: Tally  # the program arm's month
    story: Story

    def __call__(self, day: int | IntArray, bought: list[Bought]) -> None:
        """Members' purchases of the day (or of one wave, or of a span of days: ``day`` then
        gives each purchase's day) through the program."""
        who = np.concatenate([b[0] for b in bought])
        amounts = np.concatenate([b[1] for b in bought])
        numbers = np.concatenate([b[2] for b in bought])
        days = np.broadcast_to(np.asarray(day, dtype=np.int64), who.shape)
        pick = self.members.enrolled_on(who, days)
        self.tally.member_revenue += int(amounts[pick].sum())
        if self.donations is not None:
            self.tally.donations += int(self.donations.per_purchase(amounts[pick]).sum())
        if not pick.any():
            return
        earned_before = self.story.earned_so_far(self.engine)
        mix = None
        if self.basket is not None:
            category, channel = self.basket.draw(
                self.key, self.customers.segment[who[pick]], who[pick], numbers[pick]
            )
            mix = (category, channel, self.basket)
        self.engine.process_days(
            day_transactions(
                who[pick],
                self.start + days[pick],
                amounts[pick],
                self.engine.customer_ids,
                numbers[pick],
                mix,
            )
        )
        self.story.points(day, who[pick], self.engine, earned_before)


def day_transactions(
    who: IntArray,
    day: IntArray,
    amounts: IntArray,
    ids: Any,
    numbers: IntArray,
    basket: tuple[IntArray, IntArray, Basket] | None = None,
) -> Transactions:
    """Member purchases on ``day`` (each one's, in day order), one transaction each (with their
    category and channel, given a basket). ``numbers`` are the purchases' numbers in each
    customer's life, which follow time: they stand as the time of day, so the replay engine
    takes a customer's purchases of one day in the order they happened, as ``earn`` does."""
    n = who.size
    category, channel, mix = basket if basket is not None else (None, None, None)
    return Transactions(
        customer=who,
        customer_ids=ids,
        day=day,
        second=np.ascontiguousarray(numbers, dtype=np.int64),
        amount=amounts,
        is_return=np.zeros(n, dtype=bool),
        transaction_id=None,
        category=category,
        channel=channel,
        quantity=np.ones(n, dtype=np.int64),
        row=np.zeros(n, dtype=np.int64),
        file="<simulation>",
        rejected=[],
        categories=mix.categories if mix else np.zeros(0, dtype=object),
        channels=mix.channels if mix else np.zeros(0, dtype=object),
    )
