"""The ledger stage: points and cash by earn cohort (issued, redeemed, expired, outstanding)."""
