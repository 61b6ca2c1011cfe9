"""``backtest`` for the API: forecast a history's customers from ``as_of`` and set the forecast
beside what really happened after it (the same file replayed through the same program).

Where: the front end of ``loyalsim backtest``; the comparison is ``measure/backtest.py``, the
actual book ``finance/book.py``, the page ``report/backtest_html.py``. docs/forecast.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from loyalsim.api.loading import PathLike, Runner, day, load_program, load_scenario
from loyalsim.api.simulation import SimulationResult, simulate
from loyalsim.compile.policy import Policy
from loyalsim.errors import UsageError
from loyalsim.population.history import History
from loyalsim.population.scenario import Scenario
from loyalsim.transactions.reader import Transactions


@dataclass
class BacktestResult:
    """The forecast (``simulation``), the actual figures by month and their comparison
    (``metrics``: per metric the months, actual, mean, P5, P50, P95, inside, total, bias, MAPE,
    coverage)."""

    simulation: SimulationResult
    as_of: str
    until: str
    metrics: dict[str, dict[str, Any]]

    @cached_property
    def document(self) -> dict[str, Any]:
        """What backtest.json holds."""
        policy, scenario = self.simulation.policy, self.simulation.scenario
        return {
            "program": {"name": policy.name, "content_hash": policy.content_hash},
            "scenario": {"name": scenario.name, "content_hash": scenario.content_hash},
            "as_of": self.as_of,
            "until": self.until,
            "seed": scenario.seed,
            "replications": scenario.replications,
            "metrics": self.metrics,
        }

    @cached_property
    def table(self) -> pa.Table:
        """One row per metric and month (backtest.parquet)."""
        from loyalsim.measure.backtest import long_table

        return long_table(self.metrics)

    def write(self, folder: PathLike) -> Path:
        """backtest.{json,csv,parquet,html} in ``folder``, replaced together."""
        import json

        from loyalsim.fileio import atomic_write_table, atomic_write_text, output_set
        from loyalsim.report.backtest_html import render

        out = Path(folder)
        with output_set():
            atomic_write_table(out, "backtest", self.table)
            atomic_write_text(out / "backtest.json", json.dumps(self.document, indent=2) + "\n")
            atomic_write_text(out / "backtest.html", render(self.document))
        return out


def backtest(
    program: PathLike | Policy,
    scenario: PathLike | Scenario,
    until: str,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    checkpoints: PathLike | None = None,
    runner: Runner | None = None,
) -> BacktestResult:
    """Forecast a history scenario's customers from the day after ``as_of`` to ``until`` (a
    month's last day, YYYY-MM-DD, within the data) and compare each month with the history
    replayed past ``as_of`` through the same program, as ``loyalsim backtest`` does."""
    from loyalsim.compile.calendar import last_of_month, month_label, month_of, to_date

    policy = load_program(program)
    loaded = load_scenario(scenario, seed=seed, replications=replications)
    history = loaded.history
    if history is None:
        raise UsageError(f"{loaded.file} has no population.history: a backtest needs one (docs/forecast.md)")
    end = day(until, "--until")
    assert end is not None
    if end <= history.as_of:
        raise UsageError(f"--until {until} must come after the history's as_of, {to_date(history.as_of)}")
    if end != last_of_month(end):
        raise UsageError(f"--until {until}: give a month's last day, such as {to_date(last_of_month(end))}")
    tx = _read_all(history, policy)
    if len(tx) == 0 or end > int(tx.day.max()):
        last = to_date(int(tx.day.max())) if len(tx) else "nowhere"
        raise UsageError(f"--until {until} is beyond the data of {history.file}, which ends on {last}")
    forecast_scenario = dataclasses.replace(
        loaded,
        days=end - history.as_of,
        # (another horizon is another simulation: its checkpoints are its own)
        simulation_hash=hashlib.sha256(f"{loaded.simulation_hash}|until={end}".encode()).hexdigest(),
    )
    forecast = simulate(
        policy, forecast_scenario, workers=workers, cluster=cluster, checkpoints=checkpoints, runner=runner
    )
    months = list(range(month_of(history.as_of) + 1, month_of(end) + 1))
    actual = _actual(policy, loaded, history, tx.subset(np.flatnonzero(tx.day <= end)), months)
    from loyalsim.measure.backtest import compared

    labels = [month_label(m) for m in months]
    return BacktestResult(
        forecast, str(to_date(history.as_of)), str(to_date(end)), compared(forecast.monthly, actual, labels)
    )


def _read_all(history: History, policy: Policy) -> Transactions:
    """The whole history file (past ``as_of`` too), read as it was for the forecast."""
    from loyalsim.errors import InvalidDocumentError
    from loyalsim.transactions.reader import read_transactions

    tx = read_transactions(Path(history.file), policy.minor_units, dict(history.columns))
    if tx.rejected:
        raise InvalidDocumentError(
            f"{len(tx.rejected)} row(s) of {history.file} rejected after as_of (the first: {tx.rejected[0]})"
        )
    return tx


def _actual(
    policy: Policy, scenario: Scenario, history: History, tx: Transactions, months: list[int]
) -> dict[str, list[float]]:
    """Each metric's actual value in each of ``months``: the file replayed through the program
    (only the history's customers when the scenario forecasts no new ones)."""
    from loyalsim.compile.calendar import month_index
    from loyalsim.finance.book import book_months
    from loyalsim.finance.forecast import forecast
    from loyalsim.replay.parts import replay
    from loyalsim.transactions.sums import revenue_by_month

    if scenario.initial == 0 and scenario.arrivals_per_month == 0:
        assert history.customer_codes is not None
        tx = tx.subset(np.flatnonzero(np.isin(tx.customer, history.customer_codes)))
    replayed = replay(policy, tx, redeem="program")
    book = {m.month: m for m in book_months(replayed.months, revenue_by_month(tx), policy)}
    finance = {
        f.month: f for f in forecast(policy, list(book.values()), scenario.economics, replayed.cohort_rows)
    }
    buys = ~tx.is_return & (tx.day > history.as_of)
    days = np.unique(np.stack((tx.customer[buys], tx.day[buys])), axis=1)  # purchase days, merged
    per_month = np.bincount(month_index(days[1]) - months[0], minlength=len(months)) if days.size else None
    scale, unit = policy.scale, policy.money_unit
    out: dict[str, list[float]] = {name: [] for name in ("repeat_purchases", "revenue", "points_earned")}
    out |= {"points_redeemed": [], "points_expired": [], "points_outstanding": [], "liability_at_cost": []}
    for i, month in enumerate(months):
        m = book[month]
        out["repeat_purchases"].append(float(per_month[i]) if per_month is not None else 0.0)
        out["revenue"].append(m.revenue / unit)
        out["points_earned"].append(m.points_issued / scale)
        out["points_redeemed"].append(m.points_redeemed / scale)
        out["points_expired"].append(m.points_expired / scale)
        out["points_outstanding"].append(m.points_outstanding / scale)
        out["liability_at_cost"].append(finance[month].liability_at_cost)
    return out
