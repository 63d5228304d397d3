"""Benchmarks: each prints a table of figures (README, "Benchmarks"); none is a test."""
