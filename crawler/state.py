"""Crawl state shared by every crawler process: which article URLs were already published.

One document per canonical URL hash in `newsmon-crawl-state` (the raw-pages message key is the
document id). A document is written only after Kafka acknowledged the page, so a crash between
the two re-publishes a page at worst (the key makes that idempotent downstream) and never loses
one. Because the state lives in Elasticsearch, it survives restarts and every host sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk

from newsmon.es import make_es
from newsmon.schemas import url_key
from newsmon.settings import Settings

INDEX_CRAWL_STATE = "newsmon-crawl-state"

_KEYWORD = {"type": "keyword"}
CRAWL_STATE_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "source_id": _KEYWORD,
        "url": {"type": "keyword", "index": False},
        "canonical_url": _KEYWORD,
        "sha256": _KEYWORD,
        "first_published_at": {"type": "date"},
        "last_published_at": {"type": "date"},
        "publish_count": {"type": "integer"},
        "alias_of": _KEYWORD,
    },
}


@dataclass(frozen=True, slots=True)
class Published:
    """A page Kafka acknowledged."""

    key: str
    source_id: str
    url: str
    canonical_url: str
    sha256: str
    published_at: datetime
    final_canonical_url: str | None = None  # where a redirect led, when not the linked URL


class CrawlState:
    def __init__(self, settings: Settings, es: Elasticsearch | None = None):
        self.es = es or make_es(settings)
        self.index = settings.index(INDEX_CRAWL_STATE)

    def ensure_index(self) -> None:
        if not self.es.indices.exists(index=self.index):
            self.es.options(ignore_status=400).indices.create(
                index=self.index, mappings=CRAWL_STATE_MAPPING,
                settings={"number_of_shards": 1, "auto_expand_replicas": "0-1"})

    def lookup(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The state documents of those keys that were published (one round trip)."""
        ids = list(dict.fromkeys(keys))
        if not ids:
            return {}
        # realtime GETs: a page published a moment ago by another process counts as seen
        resp = self.es.mget(index=self.index, ids=ids, source_includes=["sha256", "last_published_at"])
        return {d["_id"]: d["_source"] for d in resp["docs"] if d.get("found")}

    def record(self, pages: Iterable[Published]) -> int:
        """Mark pages as published; first_published_at is kept from the first time (upsert)."""
        actions = []
        for p in pages:
            stamp = p.published_at.isoformat()
            actions.append({
                "_op_type": "update", "_index": self.index, "_id": p.key,
                "doc": {"sha256": p.sha256, "last_published_at": stamp, "url": p.url},
                "upsert": {"source_id": p.source_id, "url": p.url, "canonical_url": p.canonical_url,
                           "sha256": p.sha256, "first_published_at": stamp, "last_published_at": stamp,
                           "publish_count": 1},
            })
            if p.final_canonical_url and p.final_canonical_url != p.canonical_url:
                # A page reached through a redirect is also seen under its final URL, so a
                # direct link to it later is not fetched again.
                actions.append({
                    "_op_type": "update", "_index": self.index, "_id": url_key(p.final_canonical_url),
                    "doc": {"sha256": p.sha256, "last_published_at": stamp},
                    "upsert": {"source_id": p.source_id, "url": p.url, "canonical_url": p.final_canonical_url,
                               "alias_of": p.key, "sha256": p.sha256, "first_published_at": stamp,
                               "last_published_at": stamp, "publish_count": 0},
                })
        if not actions:
            return 0
        ok, _ = bulk(self.es, actions, raise_on_error=True, refresh=False)
        return ok

    def counts_by_source(self) -> dict[str, int]:
        """Articles published per source (for `newsmon source list`)."""
        if not self.es.indices.exists(index=self.index):
            return {}
        resp = self.es.search(index=self.index, size=0, query={"bool": {"must_not": {"exists": {"field": "alias_of"}}}},
                              aggs={"by": {"terms": {"field": "source_id", "size": 10_000}}})
        return {b["key"]: b["doc_count"] for b in resp["aggregations"]["by"]["buckets"]}
