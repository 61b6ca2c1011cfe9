"""Durations as the language writes them: '30 days', '6 months', '1 year', ISO 'P6M'.

Where: used by the validator's rules and by the compiler. Calendar-exact arithmetic
(adding months to dates) lives in the compiler; here a duration is split into whole
months and days, with an approximate length in days for comparisons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HUMAN = re.compile(r"^([1-9][0-9]{0,3}) ?(day|days|week|weeks|month|months|year|years)$")
# A zero length ('P0D') is refused: limits, windows and expiry periods divide by it.
_ISO = re.compile(
    r"^P(?=[0-9])(?=[^1-9]*[1-9])(?:([0-9]{1,4})Y)?(?:([0-9]{1,4})M)?(?:([0-9]{1,4})W)?(?:([0-9]{1,4})D)?$"
)

DAYS_PER_MONTH = 365.2425 / 12


@dataclass(frozen=True, order=True)
class Duration:
    """A length of time as whole months plus whole days (years are 12 months, weeks 7 days)."""

    months: int = 0
    days: int = 0

    @property
    def approx_days(self) -> float:
        return self.months * DAYS_PER_MONTH + self.days

    def __str__(self) -> str:
        parts = []
        if self.months:
            years, months = divmod(self.months, 12)
            if years and not months:
                parts.append(f"{years} year{'s' if years != 1 else ''}")
            else:
                parts.append(f"{self.months} month{'s' if self.months != 1 else ''}")
        if self.days or not parts:
            parts.append(f"{self.days} day{'s' if self.days != 1 else ''}")
        return " ".join(parts)


def parse_duration(text: str) -> Duration:
    """Parse a duration; raise ValueError with a readable message if it is not one."""
    match = _HUMAN.match(text)
    if match:
        count, unit = int(match.group(1)), match.group(2).rstrip("s")
        return {
            "day": Duration(days=count),
            "week": Duration(days=7 * count),
            "month": Duration(months=count),
            "year": Duration(months=12 * count),
        }[unit]
    match = _ISO.match(text)
    if match:
        years, months, weeks, days = (int(g) if g else 0 for g in match.groups())
        return Duration(months=12 * years + months, days=7 * weeks + days)
    raise ValueError(f"{text!r} is not a duration such as '30 days', '6 months' or 'P6M'")
