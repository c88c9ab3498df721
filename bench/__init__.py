"""Benchmark of the ChatKit backend: `python -m bench.run` (see docs/performance.md)."""
