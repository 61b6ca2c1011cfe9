"""The background table writer: tables land in order, at most a queue's worth wait, errors surface."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loyalsim.report.earn_output import TableWriter


def test_tables_are_written_in_order_and_the_queue_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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
