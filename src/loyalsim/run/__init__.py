"""The run stage: replications, sweeps and sensitivity runs, in process, on local worker processes or on
a Dask cluster, with checkpoints to resume from."""
