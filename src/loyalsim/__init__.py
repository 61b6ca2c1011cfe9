"""loyalsim: declarative loyalty programs, validated, compiled, simulated and accounted for.

The package is a pipeline of stages (load → validate → compile → simulate/replay →
ledger → finance → report), one subpackage each; a stage never imports a later one.
This module stays tiny so that ``loyalsim validate`` starts fast.
"""

__version__ = "0.1.0"
