"""Realistic raw pages and stories for the fault tests, with unique keys.

Pages come from three real sources: the labelled analysis corpus (relevant news, hard negatives,
spam and injected-junk pages), the five seed newspaper pages, and the fixture news site's articles.
They are cycled to the count a test wants, each copy under its own URL (so its own key and story
ids). Poison messages — invalid JSON and JSON that is not a raw page — must end in dead-letter.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from newsmon.kafka import dumps
from newsmon.schemas import RawPage, Story, stable_id
from tests.alerts.corpus import fixture_stories, manifest, seed_stories

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "consumers" / "analysis" / "data" / "corpus"
SITE_WWW = REPO / "tests" / "fixtures" / "site" / "www"


@dataclass(frozen=True, slots=True)
class Published:
    key: str
    value: bytes
    kind: str          # page | invalid_json | invalid_message
    name: str          # where the content came from (corpus id, seed file, fixture path)


def _article_html(title: str, paragraphs: list[str]) -> str:
    """Plain text rendered as a news site's article page: navigation, article, footer."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
            f"<div class='nav'><a href='/'>首页</a> | <a href='/news'>新闻</a></div>"
            f"<div class='article'><h1>{html.escape(title)}</h1>{body}</div>"
            f"<div class='footer'>版权所有 辽ICP备05022042号</div></body></html>")


def _from_text(text: str) -> str:
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    return _article_html(paragraphs[0], paragraphs[1:])


@lru_cache(maxsize=1)
def page_templates(seeds_dir: str) -> tuple[tuple[str, str, str | None], ...]:
    """(name, HTML body, outlet) of every distinct real page available."""
    out: list[tuple[str, str, str | None]] = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            given = item["input"]
            out.append((item["id"], given.get("html") or _from_text(given["text"]), item.get("outlet")))
    labels = json.loads((Path(seeds_dir) / "labels.json").read_text(encoding="utf-8"))["seeds"]
    for name in sorted(labels):
        out.append((name, _from_text((Path(seeds_dir) / name).read_text(encoding="utf-8")), None))
    for article in manifest()["articles"]:
        path = SITE_WWW / article["path"].lstrip("/")
        if path.is_file():
            out.append((article["path"], path.read_bytes().decode(article.get("encoding") or "utf-8", "replace"),
                        article.get("outlet")))
    return tuple(out)


def raw_page(run: str, i: int, name: str, body: str, outlet: str | None) -> RawPage:
    url = f"http://127.0.0.1:8765/faults/{run}/{i:05d}.html"
    return RawPage(url=url, final_url=url, canonical_url=url, source_id="faults", fetched_at=datetime.now(UTC),
                   status=200, content_type="text/html; charset=utf-8", declared_encoding="utf-8",
                   detected_encoding="utf-8", body=body, sha256=hashlib.sha256(body.encode()).hexdigest(),
                   outlet=outlet)


def raw_pages(seeds_dir: str, run: str, count: int, *, invalid_json: int = 0,
              invalid_message: int = 0) -> list[Published]:
    """`count` messages for newsmon.raw-pages: real pages cycled under unique URLs, with the given
    numbers of poison messages spread evenly among them."""
    poison = ["invalid_json"] * invalid_json + ["invalid_message"] * invalid_message
    every = count // (len(poison) + 1) if poison else count + 1
    templates = itertools.cycle(page_templates(seeds_dir))
    out: list[Published] = []
    for i in range(count):
        if poison and (i + 1) % every == 0:
            kind = poison.pop()
            key = f"{run}-poison-{i:05d}"
            value = (b'{"url": "http://127.0.0.1/broken", "body": "<html>' if kind == "invalid_json"
                     else dumps({"url": f"http://127.0.0.1/{key}", "note": "not a raw page"}))
            out.append(Published(key, value, kind, key))
            continue
        name, body, outlet = next(templates)
        page = raw_page(run, i, name, body, outlet)
        out.append(Published(page.key, dumps(page.model_dump(mode="json")), "page", name))
    assert not poison, "count too small for the poison asked for"
    return out


def stories(seeds_dir: str, run: str, count: int) -> list[Story]:
    """`count` stories as the processor emits them (seed and fixture-site stories), unique ids."""
    base = seed_stories(seeds_dir) + fixture_stories()
    return [s.model_copy(update={"id": stable_id(run, str(i), s.id), "page_key": stable_id(run, str(i))})
            for i, s in zip(range(count), itertools.cycle(base), strict=False)]
