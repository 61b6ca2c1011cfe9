"""``loyalsim earn``'s options and messages (called from cli.app; the job is ``api.write_earn``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from loyalsim.errors import UsageError
from loyalsim.replay.engine import ReplayResult
from loyalsim.transactions.reader import RowError


@dataclass
class EarnOptions:
    program: Path
    transactions: list[Path]
    output_format: str = "csv"
    out: Path | None = None
    columns: tuple[str, ...] = ()
    on_error: str = "fail"
    rejects: Path | None = None
    redeem: str = "program"


def parse_columns(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        name, sep, source = pair.partition("=")
        if not sep or not name.strip() or not source.strip():
            raise UsageError(f"--column {pair!r}: write it as NAME=SOURCE, e.g. --column amount=total_usd")
        mapping[name.strip()] = source.strip()
    return mapping


def _report_errors(errors: list[RowError], limit: int = 20) -> None:
    for error in errors[:limit]:
        sys.stderr.write(f"{error}\n")
    if len(errors) > limit:
        sys.stderr.write(f"... and {len(errors) - limit} more rejected rows\n")


def run_earn(options: EarnOptions) -> int:
    from loyalsim import api

    try:
        written = api.write_earn(
            options.program,
            options.transactions,
            options.out if options.out is not None else sys.stdout.buffer,
            output_format=options.output_format,
            redeem=options.redeem,
            columns=parse_columns(options.columns),
            on_error=options.on_error,
            rejects=options.rejects,
        )
    except api.RowsRejected as error:
        _report_errors(error.rows)
        sys.stderr.write(
            f"loyalsim: {len(error.rows)} row(s) rejected; nothing written. Fix them, or use "
            "--on-error skip to replay the rest and write the rejected rows to a file.\n"
        )
        return 1
    sys.stdout.flush()
    if written.rejects is not None:
        sys.stderr.write(
            f"loyalsim: {len(written.rejected)} row(s) rejected and skipped; written to {written.rejects}\n"
        )
    _summary(written.replay, options)
    return 0


def _summary(result: ReplayResult, options: EarnOptions) -> None:
    from loyalsim.compile.calendar import month_label

    policy = result.policy
    scale = policy.scale
    customers = int(result.started.sum())
    balance = int((result.balance - result.debt)[result.started].sum())
    span = (
        f"{month_label(result.first_month)} to {month_label(result.last_month)}"
        if result.last_month >= result.first_month
        else "no months"
    )
    where = f"; written to {options.out}" if options.out else ""
    decimals = policy.points.decimals
    sys.stderr.write(
        f"replayed {result.rows:,} rows for {customers:,} customers, {span}: "
        f"{policy.points.name} earned {result.total_earned.sum() / scale:,.{decimals}f}, "
        f"redeemed {result.total_redeemed.sum() / scale:,.{decimals}f}, "
        f"expired {result.total_expired.sum() / scale:,.{decimals}f}, "
        f"outstanding {balance / scale:,.{decimals}f}{where}\n"
    )
