"""The Python API: the jobs the ``loyalsim`` command runs, as functions that return results.

Where: the front end for notebooks and scripts, beside the command line (which parses options,
calls these, renders, and maps results to exit codes). docs/api.md has the reference and a
worked example; each job lives in a module of this package named for it.

Inputs may be paths or loaded objects (a :class:`~loyalsim.compile.policy.Policy`, a
:class:`~loyalsim.population.scenario.Scenario`). A problem raises
:class:`~loyalsim.errors.LoyalsimError` (re-exported here as ``Error``), whose ``issues`` carry
each located problem (file, line, column, code, message, fix); ``exit_code`` is what the
command line would exit with. Figures in the result tables are in currency and points, as in
the command line's files. No function changes the caller's process (docs/architecture.md,
"Process settings"), and nothing is written unless a ``write`` method (or ``write_earn``) is
called.
"""

from __future__ import annotations

from loyalsim.api.backtest import BacktestResult, backtest
from loyalsim.api.check import check
from loyalsim.api.earn import EarnResult, EarnWritten, RowsRejected, earn, write_earn
from loyalsim.api.fits import PurchaseFit, RetentionFit, account, fit_purchases, fit_response, fit_retention
from loyalsim.api.loading import Error, PathLike, Runner, load_program, load_scenario, validate
from loyalsim.api.sensitivity import SensitivityResult, sensitivity
from loyalsim.api.simulation import (
    ComparisonResult,
    SimulationResult,
    Trace,
    compare,
    simulate,
    trace,
    write_transactions,
)
from loyalsim.api.sweep import PointsInvalid, SweepResult, sweep

__all__ = [
    "BacktestResult",
    "ComparisonResult",
    "EarnResult",
    "EarnWritten",
    "Error",
    "PathLike",
    "PointsInvalid",
    "PurchaseFit",
    "RetentionFit",
    "RowsRejected",
    "Runner",
    "SensitivityResult",
    "SimulationResult",
    "SweepResult",
    "Trace",
    "account",
    "backtest",
    "check",
    "compare",
    "earn",
    "fit_purchases",
    "fit_response",
    "fit_retention",
    "load_program",
    "load_scenario",
    "sensitivity",
    "simulate",
    "sweep",
    "trace",
    "validate",
    "write_earn",
    "write_transactions",
]  # fmt: skip
