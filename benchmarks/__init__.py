"""Benchmark harness of issue #6: `make bench SIZE=100k` (see BENCHMARKS.md and benchmarks/run.py)."""
