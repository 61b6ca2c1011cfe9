"""Dask's log records stay off the terminal unless --verbose; the worker preload ignores Ctrl-C."""

from __future__ import annotations

import logging
import signal

from loyalsim.run.runner import Backend, _quiet_dask


def test_dask_loggers_are_silenced_for_the_run_and_restored_after() -> None:
    logger = logging.getLogger("distributed")
    before = logger.level
    with _quiet_dask(verbose=False):
        assert not logger.isEnabledFor(logging.CRITICAL)
    assert logger.level == before
    with _quiet_dask(verbose=True):
        assert logger.level == before


def test_verbose_is_carried_by_the_backend() -> None:
    assert Backend.choose(2, "local", verbose=True).verbose
    assert not Backend.choose(2, "local").verbose


def test_the_worker_preload_ignores_interrupts() -> None:
    from loyalsim.run.dask_preload import dask_setup

    previous = signal.getsignal(signal.SIGINT)
    try:
        dask_setup(object())
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
