"""The published JSON Schemas (program, scenario), shipped as package data."""
