"""Processor pages/s on one core for the realistic page mix (benchmarks/pages.py), next to bare
trafilatura extraction of the same pages in the same run, plus the process's peak memory.

Each page is analysed fully (extraction, normalisation, spam/junk, splitting, relevance, regions,
figures, keywords, clusters) exactly as the consumer does, minus Kafka. Rates are pages per second
of this process's CPU time, so other load on the machine slows the run without changing them much.
"""

from __future__ import annotations

import resource
import time

from benchmarks.common import Context, row
from benchmarks.pages import page_pool


def _rate(fn, pages, rounds: int) -> tuple[float, float]:
    t0 = time.process_time()
    for _ in range(rounds):
        for url, doc in pages:
            fn(url, doc)
    cpu = time.process_time() - t0
    n = rounds * len(pages)
    return n / cpu, cpu / n * 1000


def run(ctx: Context) -> list[dict]:
    import trafilatura

    from consumers.analysis.dedup import InMemoryClusterIndex
    from consumers.analysis.pipeline import analyze_page

    pages = [(p.url, p.html) for p in page_pool()]
    rounds = 3
    if ctx.quick:
        pages, rounds = pages[::10], 1
    kb = sum(len(d.encode()) for _, d in pages) / len(pages) / 1024
    clusters = InMemoryClusterIndex()
    # warm up: dictionaries, models, gazetteer are loaded once per process, not per page
    for url, doc in pages[:3]:
        analyze_page(html=doc, url=url, clusters=clusters)
        trafilatura.bare_extraction(doc, url=url, favor_precision=True, with_metadata=True)

    bare_rate, bare_ms = _rate(lambda u, d: trafilatura.bare_extraction(d, url=u, favor_precision=True,
                                                                        with_metadata=True), pages, rounds)
    # trafilatura without its external comparison (readability, jusText): the path the processor
    # takes first, shown so the ratio above can be read against both
    fast_rate, fast_ms = _rate(lambda u, d: trafilatura.bare_extraction(d, url=u, favor_precision=True, fast=True,
                                                                        with_metadata=True), pages, rounds)
    proc_rate, proc_ms = _rate(lambda u, d: analyze_page(html=d, url=u, page_id=u, clusters=clusters), pages, rounds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mix = f"{len(pages)} pages (mean {kb:.1f} KB) x{rounds}, CPU time of one process"
    return [
        row("processor", "full processor (analyze_page)", proc_rate, "pages/s/core", f"{proc_ms:.1f} ms/page; {mix}",
            ms_per_page=proc_ms, pages=len(pages), rounds=rounds, mean_page_kb=kb),
        row("processor", "bare trafilatura, same pages", bare_rate, "pages/s/core", f"{bare_ms:.1f} ms/page",
            ms_per_page=bare_ms),
        row("processor", "bare trafilatura fast=True, same pages", fast_rate, "pages/s/core", f"{fast_ms:.1f} ms/page",
            ms_per_page=fast_ms),
        row("processor", "processor / bare trafilatura", proc_rate / bare_rate * 100, "%", "target ≥ 40 %"),
        row("processor", "peak memory (RSS), in-process", peak_mb, "MB", "benchmark process, models loaded"),
    ]
