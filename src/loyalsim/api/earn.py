"""``earn`` for the API: transactions replayed through a program, in memory (``earn``) or
streamed month by month to files (``write_earn``, what ``loyalsim earn`` runs)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from loyalsim.api.loading import PathLike, load_program
from loyalsim.compile.policy import Policy
from loyalsim.errors import InvalidDocumentError, UsageError
from loyalsim.finance.book import BookMonth
from loyalsim.replay.engine import MonthRows, ReplayResult
from loyalsim.transactions.reader import RowError, Transactions


@dataclass
class EarnResult:
    """A replay of transactions through a program: ``months`` (points and tier per customer per
    month), ``totals`` (per customer), ``rejected`` (rows skipped, with file, row and column)."""

    months: pa.Table
    totals: pa.Table
    rejected: list[RowError]
    replay: ReplayResult  # the engine's own result: per-customer arrays, the ledger, cohort totals
    book: list[BookMonth]  # each month's figures summed over customers, as finance reads them

    def finance(self, economics: Mapping[str, float] | None = None) -> pa.Table:
        """The book's finance by month, computed as a forecast's is (docs/finance.md): the
        liability at cost, the expected redemption rate from the replay's cohort run-off (chain
        ladder) and breakage, IFRS 15's contract liability and points revenue, reward cost,
        cashback and dividends accrued. ``economics``: ``reward_cost_ratio``,
        ``fixed_costs_per_month``, as in a scenario. There is no control arm in a replay, so
        no incremental revenue, margin or net benefit; and costs the replay cannot see
        (referrals, reminders, perks, donations) are zero."""
        from dataclasses import asdict

        from loyalsim.compile.calendar import month_label
        from loyalsim.finance.forecast import forecast

        figures = forecast(self.replay.policy, self.book, dict(economics or {}), self.replay.cohort_rows)
        rows = []
        for month in figures:
            row = {**asdict(month), "month": month_label(month.month)}
            del row["incremental_revenue"], row["incremental_gross_margin"], row["net_benefit"]
            del row["discount_factor"]
            rows.append(row)
        return pa.Table.from_pylist(rows)


def earn(
    program: PathLike | Policy,
    transactions: PathLike | Sequence[PathLike],
    *,
    redeem: str = "program",
    columns: dict[str, str] | None = None,
    on_error: str = "fail",
) -> EarnResult:
    """Replay transaction files (CSV or Parquet) through a program, as ``loyalsim earn`` does.

    ``columns`` maps the file's headers (``{"amount": "total_usd"}``); ``redeem`` is program,
    auto or none. With ``on_error="fail"`` rejected rows raise an Error carrying them (one issue
    per row); with ``"skip"`` the rest is replayed and they are in ``rejected``. The tables are
    held in memory (the command line streams them to a file instead).
    """
    from loyalsim.finance.book import book_months
    from loyalsim.report.earn_output import totals_table
    from loyalsim.transactions.sums import revenue_by_month

    _check_options(on_error, redeem)
    policy = load_program(program)
    tx = _read(policy, _files(transactions), columns, on_error)
    result = _replayed(policy, tx, redeem, on_error)
    tables = [_plain(table) for table in _month_tables(policy, tx, result)]
    months = pa.concat_tables(tables) if tables else _plain(_empty(policy, tx))
    book = book_months(result.months, revenue_by_month(tx), policy)
    return EarnResult(months, _plain(totals_table(result, _ids(tx))), list(result.rejected), result, book)


def _plain(table: pa.Table) -> pa.Table:
    """``table`` with its dictionary-encoded text (shared code tables, for the writers) as plain text."""
    columns = {}
    for field_ in table.schema:
        column = table.column(field_.name)
        columns[field_.name] = (
            column.cast(field_.type.value_type) if pa.types.is_dictionary(field_.type) else column
        )
    return pa.table(columns)


class RowsRejected(InvalidDocumentError):
    """Transaction rows were rejected (``rows``: each with its file, row, column and reason)."""

    def __init__(self, rows: list[RowError], message: str | None = None) -> None:
        shown = "; ".join(str(row) for row in rows[:3]) + ("; ..." if len(rows) > 3 else "")
        super().__init__(
            message or f"{len(rows)} row(s) rejected ({shown}); fix them, or pass on_error='skip'"
        )
        self.rows = rows


def _files(transactions: PathLike | Sequence[PathLike]) -> list[Path]:
    if isinstance(transactions, str | os.PathLike):
        return [Path(transactions)]
    return [Path(t) for t in transactions]


def _check_options(on_error: str, redeem: str) -> None:
    if on_error not in ("fail", "skip"):
        raise UsageError("on_error takes fail or skip")
    if redeem not in ("program", "auto", "none"):
        raise UsageError("redeem takes program, auto or none")


def _read(policy: Policy, files: list[Path], columns: dict[str, str] | None, on_error: str) -> Transactions:
    """The transactions of ``files``, with rows the program cannot count exactly rejected too."""
    from loyalsim.replay.exact import reject_inexact
    from loyalsim.transactions.merge import read_many

    tx = reject_inexact(policy, read_many(files, policy.minor_units, dict(columns or {})))
    if tx.rejected and on_error == "fail":
        raise RowsRejected(tx.rejected)
    return tx


def _span(tx: Transactions) -> tuple[int, int] | None:
    """The months of the output: from the first day's month to the last day's (days are sorted)."""
    from loyalsim.compile.calendar import month_of

    return (month_of(int(tx.day[0])), month_of(int(tx.day[-1]))) if len(tx) else None


@dataclass
class EarnWritten:
    """What ``write_earn`` wrote: the replay, and the files (the rejects file, if any, last)."""

    replay: ReplayResult
    files: list[Path]
    rejected: list[RowError]
    rejects: Path | None  # where the rejected rows were written (None: none rejected)


def earn_outputs(
    out: Path | None, output_format: str, on_error: str, rejects: Path | None
) -> dict[str, Path]:
    """The files ``write_earn`` may write, by the option that names them."""
    outputs: dict[str, Path] = {}
    if out is not None:
        outputs["--out"] = out
        if output_format != "json":
            outputs["the totals file"] = out.with_name(out.stem + ".totals" + out.suffix)
    if on_error == "skip":
        outputs["--rejects"] = rejects or (
            out.with_name(out.stem + ".rejects.csv") if out else Path("loyalsim-rejects.csv")
        )
    return outputs


def write_earn(
    program: PathLike | Policy,
    transactions: PathLike | Sequence[PathLike],
    out: PathLike | BinaryIO,
    *,
    output_format: str = "csv",
    redeem: str = "program",
    columns: dict[str, str] | None = None,
    on_error: str = "fail",
    rejects: PathLike | None = None,
) -> EarnWritten:
    """Replay transactions and write the months (csv, parquet or json) to ``out``, as ``loyalsim
    earn`` does: to a file, CSV and Parquet stream month by month into a temporary file beside it
    and the totals go beside it (NAME.totals.csv); to a binary stream (standard output), the months
    are written when the replay has finished. Nothing is written when rows are rejected with
    ``on_error="fail"`` (RowsRejected); with ``"skip"`` they go to ``rejects`` (default: beside
    ``out``, or loyalsim-rejects.csv). No output may be one of the inputs."""
    from loyalsim.fileio import atomic_write_text, refuse_clashes
    from loyalsim.report.earn_output import TableWriter, render_json

    _check_options(on_error, redeem)
    if output_format not in ("csv", "parquet", "json"):
        raise UsageError("output_format takes csv, parquet or json")
    target = Path(out) if isinstance(out, str | os.PathLike) else None
    if output_format == "parquet" and target is None:
        raise UsageError("--format parquet needs --out FILE")
    files = _files(transactions)
    outputs = earn_outputs(target, output_format, on_error, Path(rejects) if rejects else None)
    inputs = {f"transaction file {i + 1}": path for i, path in enumerate(files)}
    if not isinstance(program, Policy):
        inputs = {"program": Path(program), **inputs}
    refuse_clashes(inputs, outputs)
    policy = load_program(program)
    tx = _read(policy, files, columns, on_error)
    if target is not None and output_format != "json":
        result = _stream_tables(policy, tx, target, output_format, redeem, on_error)
        written = [target, outputs["the totals file"]]
    else:
        result = _replayed(policy, tx, redeem, on_error)
        if output_format == "json":
            text = render_json(result, program_file=str(program), transactions=[str(p) for p in files])
            if target is not None:
                atomic_write_text(target, text)
            else:
                assert not isinstance(out, str | os.PathLike)
                out.write(text.encode("utf-8"))
        else:
            assert not isinstance(out, str | os.PathLike)
            stream = TableWriter("csv", out)
            for table in _month_tables(policy, tx, result):
                stream.write(table)
            stream.close(_empty(policy, tx).schema)
        written = [target] if target is not None else []
    rejects_file = None
    if result.rejected:
        rejects_file = outputs.get("--rejects")
        assert rejects_file is not None  # (rejected rows reach here only with on_error="skip")
        _write_rejects(rejects_file, result.rejected)
        written.append(rejects_file)
    return EarnWritten(result, written, list(result.rejected), rejects_file)


def _replayed(policy: Policy, tx: Transactions, redeem: str, on_error: str) -> ReplayResult:
    from loyalsim.replay.parts import parts_for, replay

    result = replay(policy, tx, redeem=redeem, parts=parts_for(tx))
    late = result.rejected[len(tx.rejected) :]
    if late and on_error == "fail":
        raise RowsRejected(late)
    return result


def _ids(tx: Transactions) -> pa.Array:
    return pa.array(tx.customer_ids, type=pa.string())


def _empty(policy: Policy, tx: Transactions) -> pa.Table:
    from loyalsim.report.earn_output import month_table

    return month_table(policy, _ids(tx), MonthRows.empty(), _span(tx))


def _month_tables(policy: Policy, tx: Transactions, result: ReplayResult) -> list[pa.Table]:
    from loyalsim.report.earn_output import month_table

    ids, span = _ids(tx), _span(tx)
    return [month_table(policy, ids, rows, span) for rows in result.months]


def _stream_tables(
    policy: Policy, tx: Transactions, out: Path, output_format: str, redeem: str, on_error: str
) -> ReplayResult:
    """Replay with each month written to a pending ``out`` as it closes; the totals beside it.
    Both files replace their targets only when both are written whole."""
    from loyalsim.fileio import PendingFile
    from loyalsim.replay.parts import parts_for, replay
    from loyalsim.report.earn_output import TableWriter, month_table, totals_table

    ids, span = _ids(tx), _span(tx)
    pending = PendingFile(out)
    writer = TableWriter(output_format, pending.path)
    totals_pending: PendingFile | None = None
    totals_writer: TableWriter | None = None
    try:
        result = replay(
            policy,
            tx,
            redeem=redeem,
            parts=parts_for(tx),
            sink=lambda rows: writer.write(month_table(policy, ids, rows, span)),
        )
        late = result.rejected[len(tx.rejected) :]
        if late and on_error == "fail":
            raise RowsRejected(late)
        # The totals are written on their own thread while the last months finish writing.
        totals_pending = PendingFile(out.with_name(out.stem + ".totals" + out.suffix))
        totals_writer = TableWriter(output_format, totals_pending.path)
        totals_writer.write(totals_table(result, ids))
        writer.close(_empty(policy, tx).schema)
        totals_writer.close()
        pending.commit()
        totals_pending.commit()
    finally:
        for table_writer in (writer, totals_writer):
            if table_writer is not None:
                table_writer.abandon()
        for pending_file in (pending, totals_pending):
            if pending_file is not None:
                pending_file.discard()
    return result


def _write_rejects(target: Path, rows: list[RowError]) -> None:
    from loyalsim.fileio import atomic_write_text

    lines = ["file,row,column,value,error"] + [
        ",".join(_csv(str(v)) for v in (e.file, e.row, e.column, e.value, e.message)) for e in rows
    ]
    atomic_write_text(target, "\n".join(lines) + "\n")


def _csv(value: str) -> str:
    if any(ch in value for ch in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value
