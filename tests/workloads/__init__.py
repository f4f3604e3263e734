"""Workloads the tests assert on and the benchmarks time (the same code, two scales)."""
