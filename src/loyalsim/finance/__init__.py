"""The finance stage: liability, IFRS 15 / ASC 606 deferral, breakage, discounting."""
