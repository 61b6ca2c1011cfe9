"""``loyalsim fit purchases`` and ``loyalsim fit retention`` (called from cli.app)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from loyalsim.errors import InvalidDocumentError, UsageError


@dataclass
class PurchaseOptions:
    transactions: Path
    calibration_end: str | None
    holdout_end: str | None
    model: str
    time_unit: str
    output_format: str
    out: Path | None
    columns: tuple[str, ...]
    segment_id: str


def run_purchases(options: PurchaseOptions) -> int:
    from loyalsim import api
    from loyalsim.api.loading import day
    from loyalsim.cli.earn_cmd import parse_columns

    if options.model not in ("bgnbd", "pareto-nbd"):
        raise UsageError("--model must be bgnbd or pareto-nbd")
    day(options.holdout_end, "--holdout-end")  # (named as the options, before any work)
    day(options.calibration_end, "--calibration-end")
    try:
        result = api.fit_purchases(
            options.transactions,
            calibration_end=options.calibration_end,
            holdout_end=options.holdout_end,
            model=options.model,
            time_unit=options.time_unit,
            columns=parse_columns(options.columns),
        )
    except api.RowsRejected as exc:
        for error in exc.rows[:20]:
            sys.stderr.write(f"{error}\n")
        # Rows rejected, as earn rejects them: exit 1 (a file that cannot be read at all is exit 2).
        raise InvalidDocumentError(str(exc)) from None
    fit, spend, summary, holdout_figures = result.purchases, result.spend, result.summary, result.holdout
    if result.spend_problem is not None:
        sys.stderr.write(f"loyalsim: spend model not fitted: {result.spend_problem}\n")
    payload: dict[str, Any] = {
        "model": options.model,
        "params": fit.params,
        "log_likelihood": fit.log_likelihood,
        "standard_errors": fit.standard_errors,
        "converged": fit.converged,
        "customers": summary.customers,
        "repeat_customers": int((summary.x > 0).sum()),
        "time_unit": options.time_unit,
        "calibration_end": str(np.datetime64(summary.calibration_end, "D")),
        "spend": None
        if spend is None
        else {
            "model": "gamma-gamma",
            "params": spend.params,
            "log_likelihood": spend.log_likelihood,
            "standard_errors": spend.standard_errors,
            **spend.extra,
        },
    }
    if holdout_figures is not None:
        payload["holdout"] = holdout_figures
    if options.out is not None and fit.converged:
        written = result.write(options.out, segment_id=options.segment_id)
        payload["files"] = {kind: str(path) for kind, path in written.items()}
    if options.output_format == "json":
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        sys.stdout.write(_text(payload))
    if not fit.converged:
        sys.stderr.write(
            f"loyalsim: the {options.model} fit did not converge: {fit.message}; nothing written\n"
        )
        return 1
    return 0


def _text(payload: dict[str, Any]) -> str:
    lines = [
        f"{payload['model']} fitted to {payload['customers']:,} customers "
        f"({payload['repeat_customers']:,} with repeat purchases), time unit {payload['time_unit']}, "
        f"calibration to {payload['calibration_end']}",
        f"  log-likelihood {payload['log_likelihood']:.2f}"
        + ("" if payload["converged"] else "  (NOT CONVERGED)"),
    ]
    for name, value in payload["params"].items():
        error = payload["standard_errors"][name]
        lines.append(
            f"  {name:>6} = {value:10.4f}   (s.e. {error:.4f})"
            if error is not None
            else f"  {name:>6} = {value:10.4f}"
        )
    spend = payload.get("spend")
    if spend:
        lines.append(
            f"spend (Gamma-Gamma, {spend['customers']:,} repeat customers; log-likelihood "
            f"{spend['log_likelihood']:.2f})"
        )
        lines += [f"  {k:>6} = {v:10.4f}" for k, v in spend["params"].items()]
    holdout = payload.get("holdout")
    if holdout:
        lines.append(
            f"holdout: {holdout['actual']:,.0f} actual repeat purchases, {holdout['expected']:,.1f} expected"
        )
    for kind, path in payload.get("files", {}).items():
        lines.append(f"wrote {kind}: {path}")
    return "\n".join(lines) + "\n"


def run_retention(counts: Path, column: str, periods: int, output_format: str) -> int:
    from loyalsim import api

    result = api.fit_retention(counts, column=column, periods=periods)
    fit, curve, survivors = result.fit, result.survival, np.array(result.survivors)
    payload: dict[str, Any] = {
        "model": "sbg",
        "params": fit.params,
        "log_likelihood": fit.log_likelihood,
        "standard_errors": fit.standard_errors,
        "converged": fit.converged,
        "periods_observed": survivors.size,
        "survival": [
            {
                "period": t,
                "survival": float(v),
                "projected": t >= survivors.size,
                "members": float(v * survivors[0]),
            }
            for t, v in enumerate(curve)
        ],
    }
    if output_format == "json":
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        lines = [
            f"shifted-beta-geometric fitted to {survivors.size} periods: alpha = {fit.params['alpha']:.4f}, "
            f"beta = {fit.params['beta']:.4f} (log-likelihood {fit.log_likelihood:.2f})",
            "period  survival  members",
        ]
        lines += [
            f"{p['period']:>6}  {p['survival']:8.4f}  {p['members']:7.1f}{'  projected' if p['projected'] else ''}"
            for p in payload["survival"]
        ]
        sys.stdout.write("\n".join(lines) + "\n")
    if not fit.converged:
        sys.stderr.write(f"loyalsim: the sBG fit did not converge: {fit.message}\n")
        return 1
    return 0


@dataclass
class ResponseOptions:
    transactions: Path
    members: Path
    output_format: str
    out: Path | None
    columns: tuple[str, ...]
    member_columns: tuple[str, ...]
    time_unit: str
    quarters: int
    min_history: int
    bootstrap: int
    seed: int


def run_response(options: ResponseOptions) -> int:
    from loyalsim import api
    from loyalsim.cli.earn_cmd import parse_columns

    if options.out is not None:
        from loyalsim.fileio import writable_folder

        writable_folder(options.out.parent if str(options.out.parent) else Path())
    try:
        result = api.fit_response(
            options.transactions,
            options.members,
            time_unit=options.time_unit,
            bootstrap=options.bootstrap,
            seed=options.seed,
            quarters=options.quarters,
            min_history=options.min_history,
            columns=parse_columns(options.columns),
            member_columns=parse_columns(options.member_columns),
        )
    except api.RowsRejected as exc:
        for error in exc.rows[:20]:
            sys.stderr.write(f"{error}\n")
        raise InvalidDocumentError(str(exc)) from None
    payload = result.as_dict()
    if options.out is not None:
        from loyalsim.report.response_report import write

        written = write(options.out, result, source=str(options.transactions), members=str(options.members))
        payload["files"] = {kind: str(path) for kind, path in written.items()}
    if options.output_format == "json":
        sys.stdout.write(json.dumps(_finite(payload), indent=2, allow_nan=False) + "\n")
    else:
        from loyalsim.report.response_report import text

        sys.stdout.write(
            text(result) + "".join(f"wrote {k}: {v}\n" for k, v in payload.get("files", {}).items())
        )
    for note in result.notes:
        sys.stderr.write(f"loyalsim: note: {note}\n")
    return 0


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite number as null (JSON has no NaN)."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
