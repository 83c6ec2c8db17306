"""Harness code shared by the tests and the benchmarks; it imports nothing else under `tests/`."""
