"""The background table writer: tables land in order, at most a queue's worth wait, errors surface."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loyalsim.report.earn_output import TableWriter


def test_tables_are_written_in_order_and_the_queue_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    real = TableWriter._write

    def slow(self: TableWriter, table: pa.Table) -> None:
        gate.wait(5)
        real(self, table)

    monkeypatch.setattr(TableWriter, "_write", slow)
    writer = TableWriter("parquet", tmp_path / "t.parquet", queue=2)
    writer.write(pa.table({"x": [0]}))
    writer.write(pa.table({"x": [1]}))
    assert len(writer._pending) == 2  # both queued: write() did not wait
    done = threading.Event()

    def third() -> None:
        writer.write(pa.table({"x": [2]}))
        done.set()

    thread = threading.Thread(target=third)
    thread.start()
    assert not done.wait(0.3)  # a third waits for the oldest to be written
    gate.set()
    thread.join(5)
    assert done.is_set()
    writer.close()
    assert pq.read_table(tmp_path / "t.parquet").column("x").to_pylist() == [0, 1, 2]


def test_a_writing_error_is_raised_by_a_later_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Any, table: pa.Table) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(TableWriter, "_write", broken)
    writer = TableWriter("parquet", tmp_path / "t.parquet", queue=2)
    writer.write(pa.table({"x": [0]}))
    with pytest.raises(OSError, match="disk full"):
        writer.close()


def test_month_tables_of_consecutive_and_scattered_customers_write_the_same_ids(tmp_path: Path) -> None:
    """Every customer (a run: ids sliced) and some of them (ids through a dictionary) give the
    same text ids; only the month column carries statistics, one month per row group."""
    import numpy as np

    from loyalsim.compile import load_policy
    from loyalsim.replay.engine import MonthRows
    from loyalsim.report.earn_output import month_table
    from tests.conftest import PROGRAMS

    policy = load_policy(PROGRAMS[0])
    ids = pa.array([f"c{i:03d}" for i in range(6)], type=pa.string())

    def rows(month: int, customers: list[int]) -> MonthRows:
        who = np.array(customers, dtype=np.int64)
        return MonthRows(month, who, who * 10, who, who, who, np.zeros(who.size, dtype=np.int64), who, who)

    writer = TableWriter("parquet", tmp_path / "m.parquet")
    for month, customers in ((684, [1, 2, 3]), (685, [0, 1, 2, 3, 4, 5]), (686, [0, 2, 5])):
        writer.write(month_table(policy, ids, rows(month, customers), (684, 686)))
    writer.close()
    table = pq.read_table(tmp_path / "m.parquet")
    assert table.column("customer_id").to_pylist() == [
        f"c{i:03d}" for i in (1, 2, 3, 0, 1, 2, 3, 4, 5, 0, 2, 5)
    ]
    assert table.column("earned").to_pylist() == [10, 20, 30, 0, 10, 20, 30, 40, 50, 0, 20, 50]
    metadata = pq.ParquetFile(tmp_path / "m.parquet").metadata
    names = table.schema.names
    for group, label in enumerate(("2027-01", "2027-02", "2027-03")):
        month = metadata.row_group(group).column(names.index("month")).statistics
        assert month is not None and month.min == month.max == label
        assert metadata.row_group(group).column(names.index("customer_id")).statistics is None


def test_totals_take_the_callers_ids_for_the_customers_who_started() -> None:
    """Given the ids as Arrow text, the totals name the same customers as made from the result's."""
    from loyalsim.compile import load_policy
    from loyalsim.report.earn_output import totals_table
    from tests.conftest import PROGRAMS
    from tests.helpers import replay, transactions

    policy = load_policy(PROGRAMS[0])
    rows = [("a", "2027-01-03", 20.0), ("b", "2027-01-04", 30.0), ("c", "2027-02-01", 5.0)]
    result = replay(policy, rows)
    ids = pa.array(transactions(rows).customer_ids, type=pa.string())
    assert totals_table(result, ids).equals(totals_table(result))
    result.started[1] = False  # b never started (say, its only row was rejected)
    assert totals_table(result, ids).column("customer_id").to_pylist() == ["a", "c"]
    assert totals_table(result, ids).equals(totals_table(result))
