"""The sizing arithmetic of deploy/SCALING.md, worked from a benchmark result file, so the document
can be refreshed after every run: `python -m benchmarks.scaling [benchmarks/results/latest.json]`
prints the input-figure table and the sizing table in Markdown.

Every derived number is a formula over the measured inputs plus the few stated assumptions below
(target rate, utilisation, politeness, retention); nothing else is typed in by hand.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from benchmarks.__main__ import DEFAULT_JSON

TARGET_PAGES_S = 1000          # the target: 1,000 raw pages per second through every stage
UTILISATION = 0.6              # size every CPU-bound stage to run at 60 %: room for catch-up after an outage
SOURCES_NOW = 16               # crawler/sources/default.yaml
SOURCES_TARGET = SOURCES_NOW * 100
POLITE_DELAY_S = 1.0           # NEWSMON_CRAWL_DELAY default: one request per second per site
SOURCES_PER_WORKER = 10        # a crawler worker polls up to 10 requests and crawls them together
REPLAY_DAYS = 7                # raw pages kept on Kafka for replay
SHARD_TARGET_GB = 30           # primary shard size to roll over at
REPLICAS = 1


def _figures(result: dict) -> dict[str, float]:
    rows = {(r["benchmark"], r["metric"]): r for r in result["rows"]}

    def value(benchmark: str, metric: str) -> float:
        return float(rows[(benchmark, metric)]["value"])

    def detail(benchmark: str, metric: str, name: str) -> float:
        return float(rows[(benchmark, metric)]["details"][name])

    return {
        "proc_rate": value("processor", "full processor (analyze_page)"),
        "traf_rate": value("processor", "bare trafilatura, same pages"),
        "proc_cpu_ms": value("e2e", "CPU per page: processor"),
        "idx_cpu_ms": value("e2e", "CPU per story: indexer"),
        "alr_cpu_ms": value("e2e", "CPU per story: alerter"),
        "idx_rate": value("indexer", "indexer throughput, steady"),
        "story_kb": value("indexer", "index size per story"),
        "stories_per_page": value("e2e", "stories per processed page"),
        "page_kb": value("e2e", "raw page size"),
        "page_disk_kb": detail("e2e", "raw page size", "disk_bytes_per_page") / 1024,
        "crawl_ppm": value("crawler", "crawl proper (delay 0)"),
        "fetches_per_page": detail("crawler", "crawl, whole command (delay 0)", "fetches")
        / detail("crawler", "crawl, whole command (delay 0)", "published"),
        "searchable_p95": value("e2e", "publish → searchable p95"),
        "mail_p95": value("e2e", "publish → e-mail accepted p95"),
        **{f"mem_{role}": value("memory", f"peak RSS: {role}") for role in ("processor", "indexer", "alerter", "crawler")},
    }


def sizing(f: dict[str, float]) -> list[tuple[str, str, str]]:
    """(what, formula, result) rows."""
    r = TARGET_PAGES_S
    stories = r * f["stories_per_page"]
    proc_ms = max(f["proc_cpu_ms"], 1000 / f["proc_rate"])   # the consumer's own figure, or the pure pipeline's if higher
    proc = math.ceil(r * proc_ms / 1000 / UTILISATION)
    idx = math.ceil(max(stories * f["idx_cpu_ms"] / 1000 / UTILISATION, stories / f["idx_rate"]))
    alr = math.ceil(stories * f["alr_cpu_ms"] / 1000 / UTILISATION)
    raw_parts = _partitions(proc)
    art_parts = _partitions(max(idx, alr))
    polite_ppm = SOURCES_PER_WORKER * 60 / POLITE_DELAY_S / f["fetches_per_page"]
    workers_off = math.ceil(r * 60 / f["crawl_ppm"])
    workers_on = math.ceil(r * 60 / polite_ppm)
    per_source_ppm = r * 60 / SOURCES_TARGET
    polite_source_ppm = 60 / POLITE_DELAY_S / f["fetches_per_page"]
    gb_day = stories * 86400 * f["story_kb"] / 1024 / 1024
    shards = max(1, math.ceil(gb_day / SHARD_TARGET_GB))
    replay_gb = f["page_disk_kb"] * r * 86400 * REPLAY_DAYS / 1024 / 1024
    per_page = {"processor": proc_ms, "indexer": f["idx_cpu_ms"] * f["stories_per_page"],
                "alerter": f["alr_cpu_ms"] * f["stories_per_page"]}
    total_ms = sum(per_page.values())
    return [
        ("CPU per raw page, all stages", " + ".join(f"{v:.1f} ({k})" for k, v in per_page.items()) + " ms",
         f"{total_ms:.1f} ms, processor {per_page['processor'] / total_ms:.0%}"),
        ("stories to index", f"{r} pages/s × {f['stories_per_page']:.2f} stories/page", f"{stories:,.0f} stories/s"),
        ("processor processes (1 core each)", f"{r} × {proc_ms:.1f} ms ÷ {UTILISATION:.0%}", f"{proc}"),
        ("`newsmon.raw-pages` partitions", f"≥ 2 × {proc} processors (room to double), power of 2", f"{raw_parts}"),
        ("indexer processes", f"max({stories:,.0f} × {f['idx_cpu_ms']:.2f} ms ÷ {UTILISATION:.0%}, "
                              f"{stories:,.0f} ÷ {f['idx_rate']:,.0f} docs/s per process)", f"{idx}"),
        ("alerter processes", f"{stories:,.0f} × {f['alr_cpu_ms']:.2f} ms ÷ {UTILISATION:.0%}", f"{alr}"),
        ("`newsmon.articles` partitions", "≥ 2 × max(indexers, alerters), power of 2", f"{art_parts}"),
        ("crawler workers, politeness off", f"{r * 60:,} pages/min ÷ {f['crawl_ppm']:,.0f} pages/min per worker "
                                            f"(one site's delay-0 rate; a worker's 10 sites at once may do more)",
         f"≤ {workers_off}"),
        ("crawler workers, politeness on", f"{r * 60:,} ÷ ({SOURCES_PER_WORKER} sites × {60 / POLITE_DELAY_S:.0f} "
                                           f"fetches/min ÷ {f['fetches_per_page']:.2f} fetches/page = "
                                           f"{polite_ppm:,.0f} pages/min per worker)", f"{workers_on}"),
        ("pages/min each source must yield", f"{r * 60:,} ÷ {SOURCES_TARGET:,} sources "
                                             f"(politeness allows ≤ {polite_source_ppm:.0f} per site)",
         f"{per_source_ppm:,.1f}"),
        ("Elasticsearch growth", f"{stories:,.0f} stories/s × 86,400 × {f['story_kb']:.2f} KB",
         f"{gb_day:,.0f} GB/day primary, ×{1 + REPLICAS} with {REPLICAS} replica"),
        ("primary shards per daily index", f"{gb_day:,.0f} GB ÷ {SHARD_TARGET_GB} GB per shard", f"{shards}"),
        ("raw pages kept for replay", f"{f['page_disk_kb']:.1f} KB/page on disk × {r} × 86,400 × {REPLAY_DAYS} days",
         f"{replay_gb:,.0f} GB per replica"),
    ]


def _partitions(consumers: int) -> int:
    return 2 ** math.ceil(math.log2(max(2, 2 * consumers)))


def markdown(result: dict) -> str:
    m = result["machine"]
    f = _figures(result)
    lines = [f"Run: {m['date']}, {m['cores']} cores, load average at start "
             f"{', '.join(str(x) for x in m['load_average_at_start'])}.", "",
             "| input | value |", "|---|---|"]
    lines += [f"| {name} | {value:,.2f} |" for name, value in f.items()]
    lines += ["", "| what | arithmetic | result |", "|---|---|---|"]
    lines += [f"| {what} | {how} | {res} |" for what, how, res in sizing(f)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_JSON
    print(markdown(json.loads(path.read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
