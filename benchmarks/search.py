"""The search side on the local stack: indexer throughput and `newsmon search` latency.

Stories are the labelled corpus pages (consumers/analysis/data/corpus, real regional news)
repeated with new ids and dates until there are 5,000 of them. They are produced to
`newsmon.articles` in the run's namespace, indexed by the real IndexerConsumer (document building
with jieba and OpenCC included; one consumer, the production bulk sizes), then the CLI's queries run
through the same query layer `newsmon search` uses, 30 times each, with the index holding them.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from benchmarks.common import Context, newsmon_command, percentile, row
from consumers.analysis.corpus import load_corpus
from consumers.indexer import IndexerConsumer
from newsmon.es import make_es
from newsmon.gazetteer import resolve_region
from newsmon.kafka import dumps, ensure_topics, make_producer
from newsmon.schemas import Story
from newsmon.settings import INDEX_ARTICLES, TOPIC_ARTICLES, TOPIC_DEAD_LETTER, Settings
from search.documents import CHINA_TZ, build_document
from search.query import SearchRequest, parse_day, search_stories

QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("微信工作群", {}),
    ("减负", {}),
    ("減負", {}),
    ("指尖上的形式主义", {}),
    ("", {"region": "辽宁省"}),
    ("", {"region": "211200"}),
    ("减负", {"measure": "work_groups"}),
    ("减负", {"since": "2024-01-01", "until": "2024-06-30"}),
    ("工作群", {"words": True}),
]


def corpus_stories(n: int) -> list[Story]:
    items = [i for i in load_corpus() if "text" in i["input"] and i.get("stories")]
    out: list[Story] = []
    start = datetime(2024, 1, 1, 9, tzinfo=CHINA_TZ)
    k = 0
    while len(out) < n:
        item = items[k % len(items)]
        label = item["stories"][0]
        out.append(Story(
            id=f"bench-{k:07d}", title=label["title"], text=item["input"]["text"], outlet=item.get("outlet"),
            source_id="bench", url=f"http://127.0.0.1/bench/{k}", relevant=label["relevant"],
            score=0.9 if label["relevant"] else 0.1, measures=label.get("measures", []),
            regions=label.get("regions", []),
            figures=[f | {"what": f["text"]} for f in label.get("figures", [])],
            published_at=start + timedelta(hours=7 * k)))
        k += 1
    return out


def bench_indexer(s: Settings, stories: list[Story]) -> dict[str, Any]:
    ensure_topics(s, [TOPIC_ARTICLES, TOPIC_DEAD_LETTER])
    producer = make_producer(s)
    for f in [producer.send(s.topic(TOPIC_ARTICLES), key=st.id.encode(), value=dumps(st.model_dump(mode="json")))
              for st in stories]:
        f.get(timeout=120)
    producer.close()

    build_started = time.perf_counter()
    for st in stories[:500]:
        build_document(st)
    build_rate = min(500, len(stories)) / (time.perf_counter() - build_started)

    indexer = IndexerConsumer(s)
    runner = threading.Thread(target=indexer.run, kwargs={"max_idle_seconds": 5})
    started = time.perf_counter()
    runner.start()
    first: tuple[float, int] | None = None
    while indexer.indexed < len(stories) and runner.is_alive():
        if first is None and indexer.indexed:
            first = (time.perf_counter(), indexer.indexed)
        time.sleep(0.02)
    done = time.perf_counter()
    indexer.stop()
    runner.join()
    if indexer.indexed < len(stories):
        raise RuntimeError(f"indexed {indexer.indexed} of {len(stories)} stories")
    if first is None or first[1] == len(stories):  # all in one bulk (quick runs): no steady part to time
        first = (started, 0)
    steady = (len(stories) - first[1]) / max(done - first[0], 1e-9)
    es = make_es(s)
    es.indices.refresh(index=s.index(INDEX_ARTICLES))
    primaries = es.indices.stats(index=s.index(INDEX_ARTICLES), metric="store,docs")["_all"]["primaries"]
    es.close()
    return {"stories": len(stories), "indexed": indexer.indexed, "seconds_total": round(done - started, 2),
            "docs_per_s_steady": round(steady), "docs_per_s_total": round(len(stories) / (done - started)),
            "build_document_per_s": round(build_rate), "dead_lettered": indexer.stats.dead_lettered,
            "bytes_per_story": primaries["store"]["size_in_bytes"] / max(1, primaries["docs"]["count"])}


def bench_search(s: Settings, repeat: int) -> dict[str, Any]:
    es = make_es(s)
    index = s.index(INDEX_ARTICLES)
    es.indices.refresh(index=index)
    per_query: dict[str, dict[str, Any]] = {}
    all_ms: list[float] = []
    for text, opts in QUERIES:
        req = SearchRequest(query=text, region=resolve_region(opts["region"]) if "region" in opts else None,
                            measure=opts.get("measure"), since=parse_day(opts.get("since")),
                            until=parse_day(opts.get("until"), end=True), words=opts.get("words", False))
        search_stories(es, index, req)  # warm-up (caches, JIT); measured runs follow
        times = [search_stories(es, index, req).elapsed_ms for _ in range(repeat)]
        total = search_stories(es, index, req).total
        all_ms += times
        label = " ".join([text] + [f"--{k} {v}" for k, v in opts.items()]).strip()
        per_query[label] = {"hits": total, "p50_ms": round(statistics.median(times), 1),
                            "p95_ms": round(percentile(times, 95), 1)}
    cli_ms = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(newsmon_command("search", "微信工作群", "--json"), check=True, capture_output=True,
                       env={**os.environ, "NEWSMON_NAMESPACE": s.namespace})
        cli_ms.append((time.perf_counter() - started) * 1000)
    return {"queries": per_query, "p50_ms": round(statistics.median(all_ms), 1),
            "p95_ms": round(percentile(all_ms, 95), 1), "cli_process_p50_ms": round(statistics.median(cli_ms))}


def run(ctx: Context) -> list[dict]:
    s = ctx.sub("search")
    stories, repeat = (300, 3) if ctx.quick else (5000, 30)
    ix = bench_indexer(s, corpus_stories(stories))
    se = bench_search(s, repeat)
    return [
        row("indexer", "indexer throughput, steady", ix["docs_per_s_steady"], "docs/s",
            f"{ix['indexed']} stories, one IndexerConsumer; {ix['docs_per_s_total']} docs/s with start-up; "
            f"document building alone {ix['build_document_per_s']} docs/s", **ix),
        row("indexer", "index size per story", ix["bytes_per_story"] / 1024, "KB",
            "primary store size / documents after the run (segments not force-merged)"),
        row("search", "search latency p50", se["p50_ms"], "ms",
            f"{len(QUERIES)} CLI queries x {repeat} over {ix['indexed']} stories", queries=se["queries"]),
        row("search", "search latency p95", se["p95_ms"], "ms",
            f"whole `newsmon search` process: {se['cli_process_p50_ms']} ms p50",
            cli_process_p50_ms=se["cli_process_p50_ms"]),
    ]
