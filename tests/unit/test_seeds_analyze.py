"""`newsmon analyze` on the five seed pages reproduces ../shared/seeds/labels.json, end to end (the
same code the processor runs): every relevant story found as a story of its own and marked relevant,
no story that the labels call unrelated marked relevant, the spam line and the junk blocks in no
story's text, and the labelled regions (adcodes) and figures of each relevant story."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from consumers.analysis.normalize import clean_chars, to_simplified

SEEDS = Path(os.environ.get("NEWSMON_SEEDS_DIR", Path(__file__).parents[3] / "shared" / "seeds"))
pytestmark = pytest.mark.skipif(not (SEEDS / "labels.json").is_file(), reason=f"no labels.json at {SEEDS}")

# What must be in no story: the injected spam line of seed 003, the junk blocks the labels name.
JUNK = {
    "000_ccb63704acf008df.txt": ["公益广告", "讲文明树新风"],
    "001_af67f4e76d60647f.txt": ["热门推荐", "举报 写留言", "GroovyMix"],
    "002_1e3f9b62d9072bb2.txt": ["职业道德监督热线"],
    "003_4e77723d70b999b6.txt": ["国产高潮视频", "您所在的位置", "分享到", "ICP", "jubao@fjsen.com", "网站地图"],
    "004_b70f7a28cb70b0c4.txt": [],
}
_SEVERAL = re.compile(r"\s*\(several [^)]*\)$")


def squash(text: str) -> str:
    return "".join(to_simplified(clean_chars(text)).split())


@pytest.fixture(scope="module")
def analysed() -> dict[str, dict]:
    labels = json.loads((SEEDS / "labels.json").read_text("utf-8"))["seeds"]
    lines = "".join(json.dumps({"id": name, "text": (SEEDS / name).read_text("utf-8")}, ensure_ascii=False) + "\n"
                    for name in labels)
    proc = subprocess.run([sys.executable, "-m", "newsmon", "analyze"], input=lines, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert set(out) == set(labels)
    return {name: {"label": labels[name], "result": out[name]} for name in labels}


def _span(story: str, text: str) -> tuple[int, int] | None:
    at = story.find(squash(text))
    return None if at < 0 else (at, at + len(squash(text)))


def _story(result: dict, title: str) -> dict | None:
    wanted = squash(_SEVERAL.sub("", title))
    return next((s for s in result["stories"] if squash(s["title"]).startswith(wanted)), None)


@pytest.mark.parametrize("seed", sorted(JUNK))
def test_relevant_stories_found_on_their_own_with_regions_and_figures(analysed, seed):
    label, result = analysed[seed]["label"], analysed[seed]["result"]
    assert result["spam"] is False
    for want in (s for s in label["stories"] if s["relevant"]):
        got = _story(result, want["title"])
        assert got is not None, f"{want['title']!r} not among {[s['title'] for s in result['stories']]}"
        assert got["relevant"] is True, got["title"]
        assert [r["adcode"] for r in got["regions"]] == [r["adcode"] for r in want.get("regions", [])], got["title"]
        story = squash(got["text"])
        found = [(_span(story, f["text"]), f["value"]) for f in got["figures"]]
        for fig in want.get("figures", []):
            # the same mention: same value, and the labelled and the found text overlap in the story
            # (a label may take "共104个单位已入驻…" where the extractor takes "…单位等共104个")
            at = _span(story, fig["text"])
            assert at is not None, fig
            assert any(span and span[0] < at[1] and at[0] < span[1] and value == fig["value"]
                       for span, value in found), (fig, got["figures"])
        for fig in got["figures"]:
            assert fig["text"] in got["text"]   # an exact substring of the story


@pytest.mark.parametrize("seed", sorted(JUNK))
def test_nothing_else_is_relevant(analysed, seed):
    label, result = analysed[seed]["label"], analysed[seed]["result"]
    relevant_titles = [squash(_SEVERAL.sub("", s["title"])) for s in label["stories"] if s["relevant"]]
    for story in result["stories"]:
        if story["relevant"]:
            assert any(squash(story["title"]).startswith(t) for t in relevant_titles), story["title"]
    for want in (s for s in label["stories"] if not s["relevant"]):
        got = _story(result, want["title"])
        assert got is None or got["relevant"] is False, want["title"]


@pytest.mark.parametrize("seed", sorted(JUNK))
def test_spam_line_and_junk_blocks_in_no_story(analysed, seed):
    result = analysed[seed]["result"]
    texts = [squash(s["title"] + s["text"]) for s in result["stories"]]
    for marker in JUNK[seed]:
        assert not any(squash(marker) in t for t in texts), marker
