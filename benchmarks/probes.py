"""What the end-to-end benchmark watches from outside the pipeline: when a page becomes searchable,
how far behind each consumer group is, and how many bytes a topic takes on the broker's disk."""

from __future__ import annotations

import threading
import time

from kafka import KafkaConsumer, TopicPartition

from newsmon.es import make_es
from newsmon.kafka import client_config, make_admin
from newsmon.settings import INDEX_ARTICLES, Settings


class SearchableWatch:
    """Finds when each expected page first has a story a search can see.

    Every `interval` seconds one search asks the articles alias which of the pages still pending
    have a story (a terms aggregation on `page_key`), exactly as an analyst's search would see the
    index: no forced refresh, so the index's refresh interval is part of the measured latency.
    A page's time is when the first answer listing it came back, so the method's resolution is the
    poll interval plus one search's round trip (both reported)."""

    def __init__(self, settings: Settings, interval: float = 0.25):
        self.es = make_es(settings)
        self.alias = settings.index(INDEX_ARTICLES)
        self.interval = interval
        self.pending: dict[str, float] = {}      # page key → publish time
        self.seen: dict[str, float] = {}         # page key → first time found by a search
        self.search_ms: list[float] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="searchable-watch", daemon=True)

    def expect(self, page_key: str, published_at: float) -> None:
        with self._lock:
            self.pending[page_key] = published_at

    def start(self) -> SearchableWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.es.close()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                keys = list(self.pending)[:10_000]
            if keys:
                self._poll(keys)

    def _poll(self, keys: list[str]) -> None:
        started = time.perf_counter()
        resp = self.es.search(index=self.alias, size=0, ignore_unavailable=True, allow_no_indices=True,
                              query={"terms": {"page_key": keys}},
                              aggs={"pages": {"terms": {"field": "page_key", "size": len(keys)}}})
        now = time.time()
        self.search_ms.append((time.perf_counter() - started) * 1000)
        found = [b["key"] for b in resp.get("aggregations", {}).get("pages", {}).get("buckets", [])]
        with self._lock:
            for key in found:
                if self.pending.pop(key, None) is not None:
                    self.seen[key] = now


class GroupLag:
    """Messages each consumer group has not committed yet, per (group, topic)."""

    def __init__(self, settings: Settings):
        self.admin = make_admin(settings)
        self.consumer = KafkaConsumer(**client_config(settings))

    def lag(self, group: str, topic: str) -> int:
        parts = self._partitions(topic)
        end = self.consumer.end_offsets(parts)
        done = self._committed(group, parts)
        return sum(max(0, end[tp] - done.get(tp, 0)) for tp in parts)

    def committed(self, group: str, topic: str) -> int:
        """Messages the group has committed on the topic, all partitions together."""
        return sum(self._committed(group, self._partitions(topic)).values())

    def _partitions(self, topic: str) -> list[TopicPartition]:
        return [TopicPartition(topic, p) for p in sorted(self.consumer.partitions_for_topic(topic) or ())]

    def _committed(self, group: str, parts: list[TopicPartition]) -> dict[TopicPartition, int]:
        committed = self.admin.list_group_offsets({group: parts}).get(group, {})
        return {tp: meta.offset for tp, meta in committed.items() if meta is not None and meta.offset >= 0}

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()


def topic_bytes_on_disk(settings: Settings, topic: str) -> int:
    """Size of the topic's log segments on every broker (compressed batches, one replica each)."""
    admin = make_admin(settings)
    try:
        total = 0
        for broker in admin.describe_log_dirs([settings.topic(topic)]):
            for log_dir in broker["log_dirs"]:
                for t in log_dir["topics"]:
                    total += sum(p["partition_size"] for p in t["partitions"])
        return total
    finally:
        admin.close()
