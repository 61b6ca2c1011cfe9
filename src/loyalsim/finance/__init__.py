"""Stage 6 — finance: liability, IFRS 15 / ASC 606 deferral, breakage, discounting."""
