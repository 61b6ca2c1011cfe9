"""Stage 8 — run: replications and sweeps; seeding; (later) local processes and Dask."""
