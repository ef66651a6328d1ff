"""Benchmarks of spendwise; run each module with ``python -m benchmarks.<name>``."""
