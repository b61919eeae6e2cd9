"""Smoke run of `python -m benchmarks --quick` on the real local stack: every benchmark runs end to end
and reports every row with a positive figure. Speeds are measured by the benchmark, never asserted here."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
EXPECTED = {
    ("processor", "full processor (analyze_page)"), ("processor", "bare trafilatura, same pages"),
    ("processor", "bare trafilatura fast=True, same pages"),
    ("processor", "processor / bare trafilatura"), ("processor", "peak memory (RSS), in-process"),
    ("indexer", "indexer throughput, steady"), ("indexer", "index size per story"), ("search", "search latency p50"), ("search", "search latency p95"),
    ("crawler", "crawl, whole command (delay 0)"), ("crawler", "crawl proper (delay 0)"),
    ("e2e", "publish rate achieved"), ("e2e", "publish → searchable p50"), ("e2e", "publish → searchable p95"),
    ("e2e", "publish → e-mail accepted p50"), ("e2e", "publish → e-mail accepted p95"), ("e2e", "raw page size"),
    ("e2e", "stories per processed page"), ("e2e", "CPU per page: processor"), ("e2e", "CPU per story: indexer"),
    ("e2e", "CPU per story: alerter"),
    ("memory", "peak RSS: processor"), ("memory", "peak RSS: indexer"), ("memory", "peak RSS: alerter"),
    ("memory", "peak RSS: crawler"),
}


@pytest.mark.timeout(900)
def test_quick_run_reports_every_row(stack, tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=840)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["machine"]["cores"] >= 1 and len(result["machine"]["load_average_at_start"]) == 3
    rows = {(r["benchmark"], r["metric"]): r for r in result["rows"]}
    assert set(rows) == EXPECTED
    for key, r in rows.items():
        assert isinstance(r["value"], int | float) and math.isfinite(r["value"]) and r["value"] > 0, (key, r)
    e2e = rows[("e2e", "publish rate achieved")]["details"]
    assert e2e["final_lag"] == {"processor": 0, "indexer": 0, "alerter": 0}
    assert rows[("e2e", "publish → searchable p50")]["details"]["missing"] == 0
    assert "│" in done.stdout and "cores" in done.stdout   # the table, with the machine's core count
