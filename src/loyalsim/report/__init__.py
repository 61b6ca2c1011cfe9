"""The report stage: results → text, JSON, CSV/Parquet, HTML, and CI formats.

Reporters are chosen by name from small registries; importing this package is cheap
(format modules are imported on use), so ``loyalsim validate`` stays fast.
"""
