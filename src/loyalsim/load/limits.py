"""Limits the loader enforces on untrusted input, in one place so the docs can quote them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Bounds on a YAML file. Defaults are far above any real program or scenario."""

    max_bytes: int = 1_048_576  # 1 MiB
    max_depth: int = 64
    # Nodes after expanding every alias: the guard against "billion laughs" alias bombs.
    max_nodes: int = 200_000
    max_aliases: int = 1_000
    max_scalar_chars: int = 100_000
    # Integers and floats beyond this magnitude are refused (JSON's safe-integer range).
    max_number: int = 2**53 - 1


DEFAULT_LIMITS = Limits()
