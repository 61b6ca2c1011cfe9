"""The population stage: synthetic customers and the models behind them; ``fit`` lives here."""
