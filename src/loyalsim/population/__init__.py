"""Stage 4a — population: synthetic customers and the models behind them; ``fit`` lives here."""
