"""Set-up of a worker of ``--cluster local``, loaded by Dask in each worker process.

Where: named in ``distributed.worker.preload`` by :mod:`loyalsim.run.runner` when it starts
a LocalCluster; Dask calls :func:`dask_setup` in the worker's main thread as it starts,
restarted workers included.
"""

from __future__ import annotations

import signal
from typing import Any


def dask_setup(worker: Any) -> None:
    """Deaf to Ctrl-C: the terminal sends SIGINT to every process of the group, and a worker
    would print its own KeyboardInterrupt traceback; loyalsim alone stops the cluster."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
