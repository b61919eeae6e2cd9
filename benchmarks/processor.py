"""Processor pages/s on one core for a realistic page mix, next to bare trafilatura on the same
pages in the same run, plus peak memory.

The mix: the five seed pages rendered as portal article pages (nav, footer, whole newspaper pages),
the HTML test pages in tests/fixtures/pages/, and the corpus's HTML items; each page is analysed
fully (extraction, normalisation, spam/junk, splitting, relevance, regions, figures, keywords,
clusters) exactly as the consumer does, minus Kafka.
"""

from __future__ import annotations

import html
import os
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = Path(os.environ.get("NEWSMON_SEEDS_DIR", ROOT.parent / "shared" / "seeds"))
ROUNDS = int(os.environ.get("NEWSMON_BENCH_ROUNDS", "5"))


def seed_html(text: str) -> str:
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    title = paragraphs[0]
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs[1:])
    nav = " | ".join(f"<a href='/s{i}'>栏目{i}</a>" for i in range(20))
    return (f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
            f"<div class='nav'>{nav}</div><div class='crumb'>您所在的位置：首页 &gt; 新闻 &gt; 正文</div>"
            f"<div class='article'><h1>{html.escape(title)}</h1>{body}</div>"
            f"<div class='share'>分享到：微信 微博 QQ空间</div>"
            f"<div class='footer'>版权所有 ICP备05022042号 电话：0591-87095403</div></body></html>")


def page_mix() -> list[tuple[str, str]]:
    pages: list[tuple[str, str]] = []
    if SEEDS.is_dir():
        for p in sorted(SEEDS.glob("*.txt")):
            pages.append((f"http://127.0.0.1/seed/{p.stem}.html", seed_html(p.read_text(encoding="utf-8"))))
    for p in sorted((ROOT / "tests" / "fixtures" / "pages").glob("*.html")):
        raw = p.read_bytes()
        try:
            pages.append((f"http://127.0.0.1/pages/{p.name}", raw.decode("utf-8")))
        except UnicodeDecodeError:
            pages.append((f"http://127.0.0.1/pages/{p.name}", raw.decode("gb18030", "replace")))
    from consumers.analysis.corpus import load_corpus

    for item in load_corpus("all"):
        if "html" in item["input"]:
            pages.append((item["input"].get("url") or f"http://127.0.0.1/corpus/{item['id']}", item["input"]["html"]))
    return pages


def _rate(fn, pages, rounds: int) -> tuple[float, float]:
    t0 = time.process_time()
    for _ in range(rounds):
        for url, doc in pages:
            fn(url, doc)
    cpu = time.process_time() - t0
    n = rounds * len(pages)
    return n / cpu, cpu / n * 1000


def run() -> list[dict]:
    import trafilatura

    from consumers.analysis.dedup import InMemoryClusterIndex
    from consumers.analysis.pipeline import analyze_page

    pages = page_mix()
    mb = sum(len(d.encode()) for _, d in pages) / 1e6
    clusters = InMemoryClusterIndex()
    # warm up: dictionaries, models, gazetteer are loaded once per process, not per page
    for url, doc in pages[:3]:
        analyze_page(html=doc, url=url, clusters=clusters)
        trafilatura.bare_extraction(doc, url=url, favor_precision=True, with_metadata=True)

    bare_rate, bare_ms = _rate(lambda u, d: trafilatura.bare_extraction(d, url=u, favor_precision=True,
                                                                        with_metadata=True), pages, ROUNDS)
    proc_rate, proc_ms = _rate(lambda u, d: analyze_page(html=d, url=u, page_id=u, clusters=clusters), pages, ROUNDS)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    notes = f"{len(pages)} pages, {mb:.2f} MB, x{ROUNDS}, CPU time of one process"
    return [
        {"benchmark": "processor", "metric": "bare trafilatura extraction", "value": bare_rate, "unit": "pages/s/core",
         "notes": f"{bare_ms:.1f} ms/page; {notes}"},
        {"benchmark": "processor", "metric": "full processor (analyze_page)", "value": proc_rate, "unit": "pages/s/core",
         "notes": f"{proc_ms:.1f} ms/page"},
        {"benchmark": "processor", "metric": "processor / bare trafilatura", "value": proc_rate / bare_rate * 100,
         "unit": "%", "notes": "target ≥ 40 %"},
        {"benchmark": "processor", "metric": "peak memory (RSS)", "value": peak_mb, "unit": "MB",
         "notes": "one process, models loaded"},
    ]
