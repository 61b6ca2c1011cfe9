"""The replay stage: real transactions through a compiled Policy (``loyalsim earn``)."""
