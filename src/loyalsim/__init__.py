"""loyalsim: declarative loyalty programs, validated, compiled, simulated and accounted for.

The package is a pipeline of stages (load → validate → compile → transactions → ledger →
replay → population → simulate → finance → measure → run → report), one subpackage each,
with the Python API (:mod:`loyalsim.api`, docs/api.md) and the CLI over them; a stage imports
only earlier stages and the shared modules (issues, errors, fileio, money, ...), never a later
one (tests/unit/test_layers.py checks; docs/architecture.md).
This module stays tiny so that ``loyalsim validate`` starts fast.
"""

__version__ = "0.1.0"
