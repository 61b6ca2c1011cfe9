"""Stage 5 — ledger: points and cash by earn cohort (issued, redeemed, expired, outstanding)."""
