"""Benchmarks: `python -m benchmarks [NAME ...] [--json FILE]` prints a table (and writes JSON).

Speed is measured here, never asserted in unit tests. Each benchmark is a module with
`run() -> list[dict]` rows; the runner prints them with the machine's core count.
"""
