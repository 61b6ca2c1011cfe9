"""A ledger of points and sales by period, from CSV, for IFRS 15 accounting (``loyalsim account``).

Where: the finance stage. Every problem names its row and column; numbers are read with
``earn``'s grammar (:data:`loyalsim.money.NUMBER_PATTERN`).
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from loyalsim.errors import InputError, InvalidDocumentError
from loyalsim.finance.ifrs15 import PeriodInput
from loyalsim.money import decimals_of, parse_number

COLUMNS = ("period", "sales", "points_issued", "points_redeemed", "expected_redemption_rate", "point_value")
# Figures from 10^15 up are typos (or hostile): the arithmetic stays exact far beyond, but no
# ledger of points or sales reaches it.
LIMIT = Decimal(10) ** 15
# Finer than 10^-12 is no ledger figure either; bounding it keeps the exact arithmetic (and
# the output) small: 1e-999999999 would otherwise be carried to a billion digits.
MAX_DECIMALS = 12


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:40]) + f"... ({len(text)} characters)"


def read_ledger(path: Path) -> list[PeriodInput]:
    """Read and check the ledger; every problem names its row and column."""
    from loyalsim.fileio import require_regular_file

    require_regular_file(path, "the ledger")
    reader: csv.DictReader[str] | None = None
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start:,}); save the ledger as UTF-8 CSV"
        ) from exc
    except csv.Error as exc:
        line = f"row {reader.line_num}: " if reader is not None and reader.line_num else ""
        raise InputError(
            f"{path}: {line}cannot read as CSV: {exc}; is a quote left open, or a line break missing?"
        ) from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read as CSV: {exc.strerror or exc}") from exc
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise InputError(
            f"{path}: the header names {', '.join(repr(n) for n in twice)} more than once; "
            "give each column its own name"
        )
    if not rows:
        raise InputError(f"{path}: no periods (the file needs a header and one row per period)")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    problems: list[str] = []
    periods = []
    seen: dict[str, int] = {}  # period → its row
    for number, row in enumerate(rows, start=2):
        values: dict[str, Decimal] = {}
        for column in COLUMNS[1:]:
            text = (row.get(column) or "").strip()
            value = parse_number(text)
            if value is None:
                problems.append(
                    f"{path}: row {number}, column '{column}': not a number ({_shown(text)}); "
                    "write digits 0-9 with an optional sign, '.' and exponent, e.g. 1250.50"
                )
                continue
            if value.copy_abs() < LIMIT and decimals_of(value) > MAX_DECIMALS:
                problems.append(
                    f"{path}: row {number}, column '{column}': more than {MAX_DECIMALS} decimal places "
                    f"({_shown(text)}); round it"
                )
                continue
            if value < 0:
                problems.append(f"{path}: row {number}, column '{column}': must not be negative ({text})")
            elif value >= LIMIT:
                problems.append(
                    f"{path}: row {number}, column '{column}': out of range ({_shown(text)}; at most 10^15)"
                )
                continue
            if column == "expected_redemption_rate" and not 0 < value <= 1:
                problems.append(
                    f"{path}: row {number}, column '{column}': a share between 0 (excluded) and 1 ({text})"
                )
            values[column] = value
        period = (row.get("period") or "").strip()
        if not period:
            problems.append(f"{path}: row {number}, column 'period': missing")
        elif period in seen:
            problems.append(
                f"{path}: row {number}, column 'period': {period!r} is already row {seen[period]}; "
                "give each period one row"
            )
        else:
            seen[period] = number
        if len(values) == len(COLUMNS) - 1:
            periods.append(PeriodInput(period, **values))
    if problems:
        raise InvalidDocumentError(
            "\n".join(problems[:50]) + (f"\n... and {len(problems) - 50} more" if len(problems) > 50 else "")
        )
    return periods
