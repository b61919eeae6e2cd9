"""`newsmon analyze` keeps the DESIGN.md contract: one output line per input line, same order and id,
an error object for a malformed line, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

GOOD_TEXT = ("铁岭清理规范微信工作群 为基层干部减负\n\n本报讯 为切实减轻基层干部负担，铁岭市自9月开始清理规范微信工作群、"
             "政务APP。截至11月12日，全市共取消、合并不必要的微信工作群746个，减少27.5%。")


def run_analyze(stdin: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsmon", "analyze", *args], input=stdin, capture_output=True,
                          text=True, timeout=300)


def test_one_output_line_per_input_line_in_order():
    lines = [
        json.dumps({"id": "a", "text": GOOD_TEXT}, ensure_ascii=False),
        '{"id": "broken", "text": "unterminated',
        json.dumps({"id": 7, "html": "<html><body><p>短</p></body></html>", "url": "http://127.0.0.1/x"}),
        json.dumps({"id": "both", "text": "x", "html": "<p>x</p>"}),
        json.dumps(["not", "an", "object"]),
    ]
    out = run_analyze("\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in results] == ["a", "broken", 7, "both", None]
    first = results[0]
    assert first["spam"] is False and first["stories"]
    story = first["stories"][0]
    assert story["relevant"] is True and "work_groups" in story["measures"]
    assert story["regions"][0]["adcode"] == "211200"
    for fig in story["figures"]:
        assert fig["text"] in story["text"]
    assert {f["value"] for f in story["figures"]} >= {746, 27.5}
    assert "error" in results[1] and "invalid JSON" in results[1]["error"]
    assert "stories" in results[2]
    assert "error" in results[3] and "error" in results[4]


def test_missing_input_file_is_a_one_line_error(tmp_path):
    out = run_analyze("", "--input", str(tmp_path / "nope.jsonl"))
    assert out.returncode == 1
    assert out.stderr.strip().startswith("error: input file not found")
    assert len(out.stderr.strip().splitlines()) == 1
