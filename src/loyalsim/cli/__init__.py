"""The command-line interface (typer), over the stages: it parses options, calls them and maps
their results to exit codes."""
