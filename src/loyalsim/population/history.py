"""A population from transaction history: the customers a company has, each with their own
summary, and the models fitted to them (or given).

Where: the population stage, read when a scenario with ``population.history`` is compiled
(:func:`loyalsim.population.scenario.scenario_from_document`). The simulator draws each
existing customer from their posterior given this summary (:func:`draw_existing` in
``population.draw``); docs/forecast.md has the method.

The history is read exactly as ``loyalsim earn`` reads it (same reader, same column mapping,
the program's minor units); rows after ``as_of`` are not used. Purchases on the same day are
merged, as in the fitted models (population/summary.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from loyalsim.errors import InvalidDocumentError
from loyalsim.issues import Issue, Severity
from loyalsim.population.summary import UNITS, FitDataError, Summary, summarise
from loyalsim.transactions.reader import Transactions

Array = npt.NDArray[np.float64]
PURCHASE_KEYS = {"bgnbd": ("r", "alpha", "a", "b"), "pareto_nbd": ("r", "alpha", "s", "beta")}
SPEND_KEYS = ("p", "q", "gamma")
SHOWN_ROWS = 20  # rejected rows named in the error (all are counted)


@dataclass(frozen=True)
class History:
    """The existing customers as of ``as_of``: their summaries, the models and their response."""

    file: str  # the transaction file, as the scenario names it (resolved)
    as_of: int  # day number of the last day of history
    purchase_model: str  # bgnbd, pareto_nbd
    purchase_params: tuple[float, float, float, float]
    purchase_fitted: bool  # fitted to this history (else given in the scenario)
    days_per_unit: float  # 7 for a fit in weeks, 1 in days
    spend_params: tuple[float, float, float]  # Gamma-Gamma p, q, gamma
    spend_fitted: bool
    program_running: bool
    response: dict[str, Any] = field(default_factory=dict)  # as stated: numbers or distributions
    columns: dict[str, str] = field(default_factory=dict)  # the file's header mapping, as earn's --column
    # The fits' covariance on the log scale (None for given parameters), and whether each
    # replication draws its parameters from it (parameter_uncertainty).
    purchase_log_covariance: Array | None = field(default=None, compare=False, repr=False)
    spend_log_covariance: Array | None = field(default=None, compare=False, repr=False)
    parameter_uncertainty: bool = True

    def parameters(self, rng: np.random.Generator) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The purchase and spend parameters of one replication: the estimates, or, with
        ``parameter_uncertainty`` and a fit, a draw from the fit's asymptotic sampling
        distribution (normal on the log scale). Nothing is drawn otherwise, so turning it off
        changes no other draw of the replication."""
        out = []
        for params, covariance in (
            (self.purchase_params, self.purchase_log_covariance),
            (self.spend_params, self.spend_log_covariance),
        ):
            if self.parameter_uncertainty and covariance is not None:
                out.append(tuple(np.exp(rng.multivariate_normal(np.log(params), covariance)).tolist()))
            else:
                out.append(tuple(params))
        return out[0], out[1]

    summary: Summary | None = field(default=None, compare=False, repr=False)
    transactions: Transactions | None = field(default=None, compare=False, repr=False)  # rows up to as_of
    # The summary's customers as codes of ``transactions`` (in the summary's order): those
    # with a purchase by as_of (a customer with only returns is not one).
    customer_codes: npt.NDArray[np.int64] | None = field(default=None, compare=False, repr=False)

    @property
    def digest(self) -> str:
        """A hash of what the forecast reads from the history (its rows up to ``as_of`` and the
        models): a checkpoint made from another history is never reused."""
        import hashlib

        h = hashlib.sha256(
            repr((self.as_of, self.purchase_params, self.spend_params, self.program_running)).encode()
        )
        if self.transactions is not None:
            tx = self.transactions
            for column in (tx.customer, tx.day, tx.amount, tx.is_return):
                h.update(np.ascontiguousarray(column).tobytes())
            h.update("\x00".join(map(str, tx.customer_ids.tolist())).encode())
        return h.hexdigest()

    @property
    def size(self) -> int:
        """How many existing customers (those with a first purchase by ``as_of``)."""
        return self.summary.customers if self.summary is not None else 0


def load_history(
    data: dict[str, Any], base: Path, scenario_file: str, minor_units: int, source: Any
) -> History:
    """Read the history a scenario names, summarise it at ``as_of`` and fit (or take) its models.

    Problems are located in the scenario (at the history's keys) or in the data file (row and
    column), as everywhere else."""
    from loyalsim.compile.calendar import day_number
    from loyalsim.transactions.reader import read_transactions

    path = base / data["transactions"]
    as_of = day_number(data["as_of"])
    tx = read_transactions(path, minor_units, dict(data.get("columns", {})))
    if tx.rejected:
        issues = [
            Issue(
                "LS313",
                Severity.ERROR,
                f"column '{e.column}': {e.message} (value: {e.value[:40]!r})",
                e.file,
                e.row,
                1,
            )
            for e in tx.rejected[:SHOWN_ROWS]
        ]
        raise InvalidDocumentError(
            f"{len(tx.rejected)} row(s) of the history {path} rejected; fix them (loyalsim earn "
            "--on-error skip writes them all to a file)",
            issues,
        )
    # The rows are in day order: those up to as_of are a leading slice (a view, not a copy).
    kept = tx.subset(slice(0, int(np.searchsorted(tx.day, as_of, side="right")))) if len(tx) else tx
    purchase, spend = data["purchase"], data["spend"]
    unit = purchase["time_unit"]
    try:
        summary = summarise(kept, as_of, None, unit, 10**minor_units)
    except FitDataError as exc:
        raise _located(scenario_file, source, ("population", "history", "as_of"), str(exc)) from None
    model = purchase["model"]
    purchase_covariance = spend_covariance = None
    if "params" in purchase:
        params = tuple(float(purchase["params"][k]) for k in PURCHASE_KEYS[model])
        fitted = False
    else:
        params, purchase_covariance = _fit_purchases(model, summary, scenario_file, source)
        fitted = True
    if "params" in spend:
        spend_params = tuple(float(spend["params"][k]) for k in SPEND_KEYS)
        spend_fitted = False
    else:
        spend_params, spend_covariance = _fit_spend(summary, scenario_file, source)
        spend_fitted = True
    return History(
        file=str(path),
        as_of=as_of,
        purchase_model=model,
        purchase_params=params,  # type: ignore[arg-type]
        purchase_fitted=fitted,
        days_per_unit=UNITS[unit],
        spend_params=spend_params,  # type: ignore[arg-type]
        spend_fitted=spend_fitted,
        program_running=bool(data.get("program_running", True)),
        response={k: v for k, v in data.get("response", {}).items() if k not in ("renewal", "action_rates")},
        columns=dict(data.get("columns", {})),
        purchase_log_covariance=purchase_covariance,
        spend_log_covariance=spend_covariance,
        parameter_uncertainty=bool(data.get("parameter_uncertainty", True)),
        summary=summary,
        transactions=kept,
        customer_codes=summary.codes,
    )


def _fit_purchases(
    model: str, summary: Summary, file: str, source: Any
) -> tuple[tuple[float, ...], Array | None]:
    from loyalsim.population.fitting import fit_purchases

    fit = fit_purchases("bgnbd" if model == "bgnbd" else "pareto-nbd", summary.x, summary.t_x, summary.T)
    if not fit.converged:
        raise _located(
            file,
            source,
            ("population", "history", "purchase"),
            f"the {model} fit to the history did not converge: {fit.message}",
            "give purchase.params (from `loyalsim fit purchases`), or a longer history",
        )
    return tuple(fit.params[k] for k in PURCHASE_KEYS[model]), fit.log_covariance


def _fit_spend(summary: Summary, file: str, source: Any) -> tuple[tuple[float, ...], Array | None]:
    from loyalsim.population.fitting import fit_spend

    try:
        fit = fit_spend(summary.x, summary.mean_spend)
    except FitDataError as exc:
        raise _located(file, source, ("population", "history", "spend"), str(exc)) from None
    if not fit.converged:
        raise _located(
            file,
            source,
            ("population", "history", "spend"),
            f"the Gamma-Gamma fit to the history did not converge: {fit.message}",
            "give spend.params (from `loyalsim fit purchases`)",
        )
    return tuple(fit.params[k] for k in SPEND_KEYS), fit.log_covariance


def _located(
    file: str, source: Any, path: tuple[str, ...], message: str, hint: str | None = None
) -> InvalidDocumentError:
    line, column = source.locate(path) if source is not None else (1, 1)
    issue = Issue("LS313", Severity.ERROR, message, file, line, column, path, hint=hint)
    return InvalidDocumentError(f"{file}: the history cannot be used", [issue])
