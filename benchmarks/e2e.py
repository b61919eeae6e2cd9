"""End-to-end latency at a steady publish rate: publish on `newsmon.raw-pages` → searchable, and
→ alert e-mail accepted by an SMTP server.

The real stages run as separate processes, one each, as `newsmon consume processor|indexer|alerter`
would run in production (production defaults: indexer flush interval 1 s, alerter timers 5 s),
in the run's namespace. A real SMTP server (newsmon.mailcatcher, aiosmtpd on 127.0.0.1) receives
the alerts of one subscriber to every new campaign.

Input: the page mix of benchmarks/pages.py, published by a paced producer at 20 pages/s for
120 s. Each published page is a new page (own URL, so own key and story ids, and a byte-unique
body); the pool's pages enter the stream one after another at an even pace across the run and
are repeated in between, as syndicated copies are on real sites (the processor's near-duplicate
clusters file copies into the campaign their original opened). So new campaigns, and their
e-mails, keep coming through the whole run rather than in one burst at the start.

Measured:
- publish → searchable: see SearchableWatch (benchmarks/probes.py) for the method and resolution;
  pages the processor dead-letters (spam, no story text) are never searchable and are counted apart.
- publish → e-mail accepted: the catcher stamps each message on arrival; the story links in the
  e-mail name the campaign's pages, and the earliest-published of them (the one that opened the
  campaign) is the start.
- whether the pipeline kept up: committed lag of the three consumer groups, sampled every 2 s,
  and after the last page. It kept up if every group was at lag 0 within 15 s of the last publish;
  otherwise it fell behind (and the latencies are queueing time); the drain lasts at most 3 min
  and what is left is reported.
- peak memory of each stage process (VmHWM), and its CPU time from the first measured page to
  the end of the drain (start-up and warm-up excluded), per page published.

Before measuring, three warm-up pages go through and every group must have committed them, so
process start-up (imports, models, group joins) is not counted as latency.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import statistics
import threading
import time
from collections import Counter
from datetime import UTC, datetime

from benchmarks.common import (
    Context,
    ProcessWatch,
    child,
    newsmon_command,
    percentile,
    row,
    wait_until,
)
from benchmarks.pages import PoolPage, page_pool
from benchmarks.probes import GroupLag, SearchableWatch, topic_bytes_on_disk
from newsmon.es import make_es
from newsmon.kafka import STANDARD_TOPICS, dumps, ensure_topics, make_producer, read_topic
from newsmon.mailcatcher import MailCatcher
from newsmon.schemas import RawPage
from newsmon.settings import INDEX_ARTICLES, TOPIC_ARTICLES, TOPIC_DEAD_LETTER, TOPIC_RAW_PAGES, Settings
from search.alerts.subscriptions import SubscriptionStore

RATE = 20.0            # pages per second
SECONDS = 120.0
QUICK_SECONDS = 5.0
DRAIN_SECONDS = 180.0
KEPT_UP_DRAIN_S = 15.0   # kept up: every group at lag 0 this soon after the last publish (batches, flush, refresh)
STAGES = (("processor", TOPIC_RAW_PAGES), ("indexer", TOPIC_ARTICLES), ("alerter", TOPIC_ARTICLES))
SUBSCRIBER = "analyst@example.org"
_TAG = re.compile(r"[?&]bench=e2e-(\d+)")


def schedule(pool: tuple[PoolPage, ...], n: int, seed: int = 8) -> list[PoolPage]:
    """n pages: each pool page enters once, at an even pace over the run; between entries, pages
    already seen repeat at random (copies)."""
    rng = random.Random(seed)
    order = list(pool)
    rng.shuffle(order)
    out: list[PoolPage] = []
    entered = 0
    for k in range(n):
        if entered < min(len(order), 1 + k * len(order) // n):
            out.append(order[entered])
            entered += 1
        else:
            out.append(order[rng.randrange(entered)])
    return out


def raw_page(page: PoolPage, tag: str) -> RawPage:
    url = f"{page.url}{'&' if '?' in page.url else '?'}bench={tag}"
    body = f"{page.html}\n<!-- newsmon benchmark page {tag} -->"
    return RawPage(url=url, final_url=url, canonical_url=url, source_id=f"bench-{page.name.split(':')[0]}",
                   fetched_at=datetime.now(UTC), status=200, content_type="text/html; charset=utf-8",
                   detected_encoding="utf-8", body=body, sha256=hashlib.sha256(body.encode()).hexdigest(),
                   outlet=page.outlet, home_region=page.home_region)


class Pipeline:
    """The three stage processes, their lag and their memory, for one run."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.lags = GroupLag(settings)
        self.max_lag: Counter[str] = Counter()

    def lag(self) -> dict[str, int]:
        return {stage: self.lags.lag(self.settings.topic(f"newsmon-{stage}"), self.settings.topic(topic))
                for stage, topic in STAGES}

    def committed(self) -> dict[str, int]:
        return {stage: self.lags.committed(self.settings.topic(f"newsmon-{stage}"), self.settings.topic(topic))
                for stage, topic in STAGES}

    def sample_lag(self) -> dict[str, int]:
        now = self.lag()
        for stage, value in now.items():
            self.max_lag[stage] = max(self.max_lag[stage], value)
        return now


def _publish(producer, settings: Settings, page: RawPage) -> float:
    at = time.time()
    producer.send(settings.topic(TOPIC_RAW_PAGES), key=page.key.encode(), value=dumps(page.model_dump(mode="json")))
    return at


def _mail_latencies(catcher: MailCatcher, published: dict[int, float], since: float) -> list[float]:
    out = []
    for mail in catcher.messages:
        seqs = [int(m) for m in _TAG.findall(mail.part("plain"))]
        starts = [published[s] for s in seqs if s in published]
        if starts and mail.received_at >= since:
            out.append(mail.received_at - min(starts))
    return out


def run(ctx: Context) -> list[dict]:
    base = ctx.sub("e2e")
    ensure_topics(base, STANDARD_TOPICS)
    pool = page_pool()
    n = int(RATE * (QUICK_SECONDS if ctx.quick else SECONDS))
    pages = [raw_page(p, f"e2e-{i}") for i, p in enumerate(schedule(pool, n))]
    warmup = [raw_page(p, f"warm-{i}") for i, p in enumerate(pool[-3:])]
    with MailCatcher() as catcher:
        s = base.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": catcher.port, "smtp_security": "none"})
        es = make_es(s)
        store = SubscriptionStore(es, s)
        store.save(store.build(SUBSCRIBER, [], [], None, "instant"))
        env = ctx.env(s)
        pipeline = Pipeline(s)
        watch = SearchableWatch(s).start()
        producer = make_producer(s)
        try:
            with ProcessWatch() as memory, \
                    child(newsmon_command("consume", "processor"), env, ctx.workdir / "processor.log") as proc, \
                    child(newsmon_command("consume", "indexer"), env, ctx.workdir / "indexer.log") as indexer, \
                    child(newsmon_command("consume", "alerter"), env, ctx.workdir / "alerter.log") as alerter:
                for role, p in (("processor", proc), ("indexer", indexer), ("alerter", alerter)):
                    memory.watch(role, p.pid)
                for page in warmup:
                    _publish(producer, s, page)
                producer.flush(30)
                if not wait_until(lambda: not any(pipeline.lag().values()), 300, interval=1.0):
                    raise RuntimeError(f"the stages did not take the warm-up pages within 5 min: {pipeline.lag()}; "
                                       f"logs in {ctx.workdir}")
                time.sleep(2)  # the warm-up pages' refresh and e-mail
                cpu_before = {role: memory.cpu_seconds(role) for role, _ in STAGES}
                done_before = pipeline.committed()
                published, started, stop_sampling = _paced_run(producer, s, pages, watch, pipeline)
                drained = wait_until(lambda: not any(pipeline.sample_lag().values()), DRAIN_SECONDS, interval=1.0)
                drain_s = time.time() - published[len(pages) - 1]
                work = {role: (memory.cpu_seconds(role) - cpu_before[role], done - done_before[role])
                        for role, done in pipeline.committed().items()}
                wall = time.time() - started
                stop_sampling.set()
                time.sleep(3)  # last refresh (1 s) and the last e-mails after the final commits
                final_lag = pipeline.lag()
                memory.sample()
        finally:
            producer.close()
            watch.stop()
            pipeline.lags.close()
            es.close()
        mail_s = _mail_latencies(catcher, published, started)
    ctx.memory.update(memory.peaks_mb)
    return _rows(s, pages, published, watch, pipeline, mail_s,
                 {"drained": drained, "drain_s": drain_s, "final_lag": final_lag, "work": work, "wall": wall})


def _paced_run(producer, s: Settings, pages: list[RawPage], watch: SearchableWatch, pipeline: Pipeline):
    """Publish at RATE per second on a fixed timetable (no catching up in bursts is needed: sending
    takes far less than the 50 ms between pages); sample the lag every 2 s meanwhile."""
    published: dict[int, float] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(2.0):
            pipeline.sample_lag()

    threading.Thread(target=sample, name="lag-sampler", daemon=True).start()
    started = time.time()
    for i, page in enumerate(pages):
        delay = started + i / RATE - time.time()
        if delay > 0:
            time.sleep(delay)
        published[i] = _publish(producer, s, page)
        watch.expect(page.key, published[i])
    producer.flush(60)
    return published, started, stop


def _dead_lettered(s: Settings) -> Counter[str]:
    reasons: Counter[str] = Counter()
    for record in read_topic(s, TOPIC_DEAD_LETTER):
        letter = json.loads(record.value)
        if letter.get("stage") == "processor" and "bench=e2e-" in (letter.get("payload") or ""):
            reasons[letter.get("reason", "?")] += 1
    return reasons


def _stories(s: Settings, keys: list[str]) -> tuple[int, int]:
    """Stories of these pages in the index, and how many of the pages have a relevant one."""
    es = make_es(s)
    try:
        index = s.index(INDEX_ARTICLES)
        es.indices.refresh(index=index)
        resp = es.search(index=index, size=0, query={"terms": {"page_key": keys}}, track_total_hits=True,
                         aggs={"relevant": {"filter": {"term": {"relevant": True}},
                                            "aggs": {"pages": {"cardinality": {"field": "page_key"}}}}})
        return resp["hits"]["total"]["value"], int(resp["aggregations"]["relevant"]["pages"]["value"])
    finally:
        es.close()


def _rows(s: Settings, pages, published, watch, pipeline, mail_s, end) -> list[dict]:
    keys = {p.key: i for i, p in enumerate(pages)}
    searchable = [watch.seen[k] - published[i] for k, i in keys.items() if k in watch.seen]
    dead = _dead_lettered(s)
    missing = len(pages) - len(searchable) - sum(dead.values())
    span = max(published.values()) - min(published.values())
    rate = (len(pages) - 1) / span if span > 0 else float(len(pages))
    drained = end["drained"] and not any(end["final_lag"].values())
    kept_up = drained and end["drain_s"] <= KEPT_UP_DRAIN_S
    verdict = ("kept up" if kept_up else f"FELL BEHIND, caught up {end['drain_s']:.0f} s after the last publish"
               if drained else "DID NOT CATCH UP within the drain")
    lag_note = f"{verdict}; max lag during the run: {dict(pipeline.max_lag)}; final lag {end['final_lag']}"
    bound = "" if not missing else f"; a lower bound: {missing} pages still in flight are not in it"
    disk = topic_bytes_on_disk(s, TOPIC_RAW_PAGES)
    json_bytes = statistics.mean(len(dumps(p.model_dump(mode="json"))) for p in pages)
    stories, relevant = _stories(s, list(keys))
    processed = len(pages) - missing
    if not searchable or not mail_s:
        raise RuntimeError(f"{len(searchable)} pages searchable, {len(mail_s)} e-mails: {lag_note}")
    return [
        row("e2e", "publish rate achieved", rate, "pages/s",
            f"{len(pages)} pages over {span:.0f} s (target {RATE:g}/s); {lag_note}", pages=len(pages), kept_up=kept_up,
            max_lag=dict(pipeline.max_lag), final_lag=end["final_lag"], drain_seconds=end["drain_s"]),
        row("e2e", "publish → searchable p50", statistics.median(searchable), "s",
            f"{len(searchable)} pages; {sum(dead.values())} dead-lettered by the processor {dict(dead)}; "
            f"{missing} neither", searchable=len(searchable), dead_lettered=dict(dead), missing=missing),
        row("e2e", "publish → searchable p95", percentile(searchable, 95), "s",
            f"max {max(searchable):.2f} s; poll every {watch.interval:g} s, one search "
            f"{statistics.median(watch.search_ms):.0f} ms p50; index refresh 1 s, indexer flush 1 s{bound}"),
        row("e2e", "publish → e-mail accepted p50", statistics.median(mail_s), "s",
            f"{len(mail_s)} e-mails (one per new campaign) from {relevant} pages with a relevant story",
            emails=len(mail_s), relevant_pages=relevant),
        row("e2e", "publish → e-mail accepted p95", percentile(mail_s, 95), "s", f"max {max(mail_s):.2f} s{bound}"),
        row("e2e", "raw page size", json_bytes / 1024, "KB",
            f"message JSON, mean; {disk / (len(pages) + 3) / 1024:.1f} KB per page on the broker's disk "
            f"(gzip batches)", json_bytes=json_bytes, disk_bytes_per_page=disk / (len(pages) + 3)),
        row("e2e", "stories per processed page", stories / max(1, processed), "stories",
            f"{stories} stories indexed from {processed} pages processed (dead-lettered included)", stories=stories),
        *[_cpu_row(role, seconds, done, end["wall"]) for role, (seconds, done) in end["work"].items()],
    ]


def _cpu_row(role: str, cpu_seconds: float, messages: int, wall: float) -> dict:
    what, whats = ("page", "pages") if role == "processor" else ("story", "stories")
    return row("e2e", f"CPU per {what}: {role}", cpu_seconds / max(1, messages) * 1000, f"ms/{what}",
               f"{cpu_seconds:.0f} CPU s for {messages} {whats} it committed; it used "
               f"{cpu_seconds / wall * 100:.0f} % of one core over the run and drain",
               cpu_seconds=cpu_seconds, messages=messages, core_share=cpu_seconds / wall)
