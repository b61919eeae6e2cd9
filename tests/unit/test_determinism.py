"""The same page gives the same analysis in every process. Python salts str hashes per process, so
anything that iterates a set of strings (a gazetteer built from a set, a set of tokens summed into
a score) can differ between the analyze CLI, one processor and the next. Two processes with
different hash seeds must print identical JSON for a mix of pages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.pages import page_pool

ROOT = Path(__file__).parents[2]


def _analyze(lines: str, seed: str) -> str:
    env = os.environ | {"PYTHONHASHSEED": seed}
    proc = subprocess.run([sys.executable, "-m", "newsmon", "analyze"], input=lines, env=env,
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_two_hash_seeds_give_identical_analyses():
    pages = page_pool()   # fixture-site pages, test pages, corpus items of every category
    lines = "".join(json.dumps({"id": p.name, "html": p.html, "url": p.url}, ensure_ascii=False) + "\n"
                    for p in pages)
    first, second = _analyze(lines, "1"), _analyze(lines, "2")
    assert len(first.splitlines()) == len(pages)
    regions = sum(len(s["regions"]) for line in first.splitlines() for s in json.loads(line).get("stories", []))
    assert regions > 50, "the mix should name many administrations"
    for a, b in zip(first.splitlines(), second.splitlines(), strict=True):
        assert a == b
