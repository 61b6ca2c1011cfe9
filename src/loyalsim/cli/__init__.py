"""Stage 8 — the command-line interface (typer)."""
