"""A crawler worker: consumes `newsmon.crawl-requests` in the `newsmon-crawlers` consumer group.

Kafka assigns each partition to one worker of the group, and requests are keyed by source id,
so a source is crawled by one worker at a time; more workers = more capacity. The offset is
committed only after the crawl finished and its result was recorded, so a worker that dies
mid-crawl leaves the request to the worker that takes over its partition.

SIGTERM/SIGINT (from `newsmon run` or a terminal) stop the worker gracefully: the crawl child is
in the same process group, so Scrapy gets the signal too and closes its spiders (pages Kafka
acknowledged are recorded as published); the worker then neither records the interrupted crawl
nor commits its request, so the next worker crawls the source again and publishes what is left.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime

from crawler.registry import SourceRegistry, UnknownSource
from crawler.runner import CrawlRun, EventHandler, record_outcomes, run_crawl
from newsmon.kafka import ensure_topics, make_consumer
from newsmon.settings import TOPIC_CRAWL_REQUESTS, TOPIC_RAW_PAGES, Settings

log = logging.getLogger(__name__)
GROUP = "newsmon.crawlers"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_worker(settings: Settings, *, idle_exit: float | None = None, max_batches: int | None = None,
               on_event: EventHandler | None = None, on_crawl: Callable[[CrawlRun, list[str]], None] | None = None,
               on_assign: Callable[[list[int]], None] | None = None, poll_records: int = 10,
               stop: threading.Event | None = None) -> int:
    """Serve crawl requests until stopped (or idle for idle_exit seconds); return crawls done."""
    stop = stop or _stop_on_signals()
    ensure_topics(settings, [TOPIC_CRAWL_REQUESTS, TOPIC_RAW_PAGES])
    registry = SourceRegistry(settings)
    name = worker_name()
    # A crawl can take long: the poll interval must outlast it, or the group would hand the
    # partition to another worker mid-crawl (and that one would crawl the source again).
    consumer = make_consumer(settings, settings.topic(GROUP), [settings.topic(TOPIC_CRAWL_REQUESTS)],
                             max_poll_records=poll_records, max_poll_interval_ms=3_600_000,
                             session_timeout_ms=30_000, heartbeat_interval_ms=3_000)
    crawls = 0
    batches = 0
    last_work = time.monotonic()
    assigned: frozenset = frozenset()
    try:
        while not stop.is_set():
            records = consumer.poll(timeout_ms=500)
            now_assigned = frozenset(tp.partition for tp in consumer.assignment())
            if now_assigned != assigned:
                assigned = now_assigned
                if on_assign:
                    on_assign(sorted(assigned))
            if not records:
                if idle_exit is not None and time.monotonic() - last_work >= idle_exit:
                    return crawls
                continue
            requests = [json.loads(r.value) for batch in records.values() for r in batch]
            wanted = _coalesce(registry, requests)
            if wanted:
                run = run_crawl(settings, wanted, on_event=on_event)
                if stop.is_set():   # interrupted: leave the request uncommitted for the next worker
                    log.info("crawl of %s interrupted; its request stays on the topic", [s.id for s in wanted])
                    return crawls
                record_outcomes(registry, run, worker=name)
                crawls += len(wanted)
                if on_crawl:
                    on_crawl(run, [s.id for s in wanted])
            consumer.commit()
            batches += 1
            last_work = time.monotonic()
            if max_batches is not None and batches >= max_batches:
                return crawls
        return crawls
    finally:
        consumer.close(autocommit=False)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    return stop


def _coalesce(registry: SourceRegistry, requests: list[dict]):
    """One crawl per source, skipping sources removed/disabled since, and requests that a crawl
    finished after (piled up while the source was being crawled)."""
    out = {}
    for req in requests:
        sid = req.get("source_id")
        if not sid or sid in out:
            continue
        try:
            source = registry.get(sid)
        except UnknownSource:
            log.warning("crawl request for unknown source %s skipped", sid)
            continue
        if not source.enabled:
            continue
        requested = datetime.fromisoformat(req["requested_at"])
        last = source.last_crawl.started_at if source.last_crawl else None
        if last and last > requested:
            continue
        out[sid] = source
    return list(out.values())
