"""``account``, ``fit_purchases`` and ``fit_retention`` for the API: IFRS 15 on a ledger, and
the purchase, spend and retention models fitted to a company's own data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from loyalsim.api.earn import RowsRejected
from loyalsim.api.loading import PathLike, day
from loyalsim.errors import UsageError
from loyalsim.finance.ifrs15 import PeriodResult
from loyalsim.population.fitting import Fit
from loyalsim.population.response_fit import ResponseFit
from loyalsim.population.summary import Summary


def account(ledger: PathLike) -> list[PeriodResult]:
    """IFRS 15 / ASC 606 accounting for points on a ledger CSV, as ``loyalsim account`` does."""
    from loyalsim.finance.ifrs15 import account as allocate
    from loyalsim.finance.ledger_csv import read_ledger

    return allocate(read_ledger(Path(ledger)))


@dataclass
class PurchaseFit:
    """A purchase model (BG/NBD or Pareto/NBD) and Gamma-Gamma spend fitted to transactions."""

    model: str
    purchases: Fit
    spend: Fit | None  # None: not fitted (``spend_problem`` says why)
    spend_problem: str | None
    summary: Summary  # per customer: x, t_x, T, mean spend (and holdout purchases)
    holdout: dict[str, float] | None  # actual and expected purchases in the holdout period
    time_unit: str
    source: str  # the transaction file, as named in the written segment and report
    end_day: int  # the last day the tracking chart shows: the holdout's end, else the calibration's

    def write(self, segment: PathLike, *, segment_id: str = "fitted") -> dict[str, Path]:
        """The scenario segment (YAML, to paste under ``population.segments``), a tracking-chart
        report (SEGMENT.report.html) and each customer's figures (SEGMENT.customers.csv), as
        ``loyalsim fit purchases --out`` writes them; their paths by kind."""
        from loyalsim.fileio import atomic_write_text, output_set
        from loyalsim.report import fit_report

        out = Path(segment)
        report, customers = out.with_suffix(".report.html"), out.with_suffix(".customers.csv")
        fit, spend, summary = self.purchases, self.spend, self.summary
        with output_set():
            atomic_write_text(
                out,
                fit_report.segment_yaml(
                    fit, spend, summary, source=self.source, segment_id=segment_id, time_unit=self.time_unit
                ),
            )
            atomic_write_text(
                report,
                fit_report.html_report(
                    fit, spend, summary, self.holdout, source=self.source, end_day=self.end_day
                ),
            )
            atomic_write_text(customers, fit_report.customers_csv(fit, summary))
        return {"segment": out, "report": report, "customers": customers}


def fit_purchases(
    transactions: PathLike,
    *,
    calibration_end: str | None = None,
    holdout_end: str | None = None,
    model: str = "bgnbd",
    time_unit: str = "week",
    columns: dict[str, str] | None = None,
) -> PurchaseFit:
    """Fit purchases and spend to a transaction file by maximum likelihood, as ``loyalsim fit
    purchases`` does (``model``: bgnbd or pareto-nbd; dates as YYYY-MM-DD; calibration to the
    last day by default)."""
    from loyalsim.population.fitting import fit_purchases as fit_model
    from loyalsim.population.fitting import fit_spend
    from loyalsim.population.summary import FitDataError, summarise
    from loyalsim.report import fit_report
    from loyalsim.transactions import read_transactions

    if model not in ("bgnbd", "pareto-nbd"):
        raise UsageError(f"model {model!r}: choose bgnbd or pareto-nbd")
    path = Path(transactions)
    calibration, holdout = day(calibration_end, "calibration_end"), day(holdout_end, "holdout_end")
    tx = read_transactions(path, 2, dict(columns or {}))
    if tx.rejected:
        raise RowsRejected(tx.rejected, f"{len(tx.rejected)} row(s) of {path} rejected; fix them first")
    if len(tx) == 0:
        raise FitDataError("the file has no transactions")
    summary = summarise(
        tx, calibration if calibration is not None else int(tx.day.max()), holdout, time_unit, 100
    )
    fit = fit_model(model, summary.x, summary.t_x, summary.T)
    spend, problem = None, None
    try:
        spend = fit_spend(summary.x, summary.mean_spend)
    except FitDataError as exc:
        problem = str(exc)
    figures = None
    if summary.holdout is not None:
        expected = fit_report.conditional(fit, summary)
        figures = {"actual": float(summary.holdout.sum()), "expected": float(expected.sum())}
    end_day = holdout if holdout is not None else summary.calibration_end
    return PurchaseFit(model, fit, spend, problem, summary, figures, time_unit, str(transactions), end_day)


@dataclass
class RetentionFit:
    """The shifted-beta-geometric model fitted to survivor counts, and its survival curve."""

    fit: Fit
    survivors: list[float]  # the counts fitted, period 0 first
    survival: list[float]  # share surviving at the start of each period, period 0 first (projected beyond)


def fit_retention(counts: PathLike, *, column: str = "members", periods: int = 24) -> RetentionFit:
    """Fit paid-membership retention (sBG) to a CSV of survivor counts, as ``loyalsim fit retention``."""
    import pyarrow.csv as pacsv

    from loyalsim.errors import InputError
    from loyalsim.population import models
    from loyalsim.population.fitting import fit_retention as fit_sbg

    path = Path(counts)
    try:
        table = pacsv.read_csv(path)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: cannot read as CSV: {str(exc).splitlines()[0]}") from exc
    if column not in table.column_names:
        raise InputError(
            f"{path}: no column {column!r} (it has: {', '.join(table.column_names)}); name it with --column"
        )
    values = table.column(column).to_pylist()
    for row, value in enumerate(values, start=2):
        if not isinstance(value, int | float) or isinstance(value, bool) or value is None or value < 0:
            raise InputError(
                f"{path}: row {row}, column '{column}': survivor counts must be non-negative numbers "
                f"(value: {value!r})"
            )
    survivors = np.array(values, dtype=np.float64)
    fit = fit_sbg(survivors)
    curve = models.sbg_survival(fit.vector, periods)
    return RetentionFit(fit, [float(v) for v in survivors], [float(v) for v in curve])


def fit_response(
    transactions: PathLike,
    members: PathLike,
    *,
    time_unit: str = "week",
    bootstrap: int = 200,
    seed: int = 0,
    quarters: int = 4,
    min_history: int = 91,
    columns: dict[str, str] | None = None,
    member_columns: dict[str, str] | None = None,
) -> ResponseFit:
    """The program's effect on members' purchases and spend, from transactions and a members
    file, as ``loyalsim fit response`` estimates it (docs/fit.md, "The program's effect"):
    the headline over each member's first ``quarters`` quarters after enrolment, for members who
    bought for more than ``min_history`` days before enrolling."""
    from loyalsim.compile.calendar import to_date
    from loyalsim.errors import InputError
    from loyalsim.population.response_fit import NONE
    from loyalsim.population.response_fit import fit_response as estimate
    from loyalsim.population.summary import UNITS, FitDataError
    from loyalsim.transactions import read_transactions
    from loyalsim.transactions.members import read_members

    if time_unit not in UNITS:
        raise UsageError(f"--time-unit must be day or week, not {time_unit!r}")
    if bootstrap < 20:
        raise UsageError(f"--bootstrap {bootstrap}: at least 20 replicates are needed for a 95% interval")
    path = Path(transactions)
    tx = read_transactions(path, 2, dict(columns or {}))
    if tx.rejected:
        raise RowsRejected(tx.rejected, f"{len(tx.rejected)} row(s) of {path} rejected; fix them first")
    if len(tx) == 0:
        raise FitDataError("the file has no transactions")
    listed = read_members(Path(members), member_columns)
    known = np.asarray(tx.customer_ids).astype(str)
    place = np.searchsorted(known, listed.ids.astype(str))
    found = (place < known.size) & (known[np.minimum(place, known.size - 1)] == listed.ids.astype(str))
    if not found.all():
        row = int(np.flatnonzero(~found)[0])
        raise InputError(
            f"{listed.path}: row {listed.rows[row]}, column 'customer_id': customer {listed.ids[row]!r} has no "
            f"transaction in {path}; {int((~found).sum())} listed member(s) do not (check that both files "
            "use the same ids)"
        )
    first, last = int(tx.day.min()), int(tx.day.max())
    outside = np.flatnonzero((listed.day != NONE) & ((listed.day < first) | (listed.day > last)))
    if outside.size:
        row = int(outside[0])
        raise InputError(
            f"{listed.path}: row {listed.rows[row]}, column 'enrolled_on': {to_date(int(listed.day[row]))} is "
            f"outside the transactions, which run from {to_date(first)} to {to_date(last)}"
        )
    enrolled = np.full(known.size, NONE, dtype=np.int64)
    enrolled[place[found]] = listed.day
    return estimate(
        tx.customer.astype(np.int64),
        tx.day.astype(np.int64),
        tx.amount.astype(np.int64),
        tx.is_return,
        known.size,
        enrolled,
        money_unit=100,
        time_unit=time_unit,
        bootstrap=bootstrap,
        seed=seed,
        quarters=quarters,
        min_history=min_history,
    )
