"""Kept for habit: `python -m search.benchmark` runs the indexer and search rows of `python -m benchmarks`
(run from the repository root)."""

from __future__ import annotations

import sys

from benchmarks.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["search", *sys.argv[1:]]))
