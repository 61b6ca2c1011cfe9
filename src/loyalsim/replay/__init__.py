"""Stage 4b — replay: real transactions through a compiled Policy (``loyalsim earn``)."""
