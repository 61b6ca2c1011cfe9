"""Stage 7 — measure: KPIs across replications, guardrails, control-vs-program differences."""
