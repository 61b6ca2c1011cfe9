"""The measure stage: KPIs across replications, guardrails, control-vs-program differences."""
