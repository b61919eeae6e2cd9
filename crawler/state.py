"""Crawl state shared by every crawler process: which article URLs were already published.

One document per canonical URL hash in `newsmon-crawl-state` (the raw-pages message key is the
document id).

Several crawler processes may meet the same article at the same time (a listing and a sitemap
crawled by two workers). Before fetching, a process *claims* the article in
`newsmon-crawl-claims` (create-if-absent, atomic in Elasticsearch); a claim is released when the
fetch fails and deleted when the page is published, and a claim left by a crashed process
expires after CLAIM_LEASE. A document is written only after Kafka acknowledged the page, so a crash between
the two re-publishes a page at worst (the key makes that idempotent downstream) and never loses
one. Because the state lives in Elasticsearch, it survives restarts and every host sees it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import ConflictError, Elasticsearch
from elasticsearch.helpers import bulk

from newsmon.es import make_es
from newsmon.schemas import url_key, utcnow
from newsmon.settings import Settings

INDEX_CRAWL_STATE = "newsmon-crawl-state"
INDEX_CRAWL_CLAIMS = "newsmon-crawl-claims"
CLAIM_LEASE = timedelta(minutes=15)  # longer than any single article fetch with its retries

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


CLAIMS_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {"owner": _KEYWORD, "claimed_at": {"type": "date"}},
}


class CrawlState:
    def __init__(self, settings: Settings, es: Elasticsearch | None = None, owner: str | None = None):
        self.es = es or make_es(settings)
        self.index = settings.index(INDEX_CRAWL_STATE)
        self.claims = settings.index(INDEX_CRAWL_CLAIMS)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def ensure_index(self) -> None:
        for index, mapping in ((self.index, CRAWL_STATE_MAPPING), (self.claims, CLAIMS_MAPPING)):
            if not self.es.indices.exists(index=index):
                self.es.options(ignore_status=400).indices.create(
                    index=index, mappings=mapping, settings={"number_of_shards": 1, "auto_expand_replicas": "0-1"})

    def claim(self, keys: Iterable[str]) -> set[str]:
        """Claim articles for fetching; return the keys this process got (the others are being
        fetched by another process right now)."""
        ids = list(dict.fromkeys(keys))
        if not ids:
            return set()
        now = utcnow()
        doc = {"owner": self.owner, "claimed_at": now.isoformat()}
        actions = [{"_op_type": "create", "_index": self.claims, "_id": k, "_source": doc} for k in ids]
        _, errors = bulk(self.es, actions, raise_on_error=False, refresh=False)
        taken = set()
        for err in errors:
            item = err.get("create", {})
            if item.get("status") != 409:
                raise RuntimeError(f"claim failed: {item.get('error')}")
            taken.add(item["_id"])
        mine = set(ids) - taken
        if taken:  # take over claims whose lease ran out (their process died)
            resp = self.es.mget(index=self.claims, ids=sorted(taken))
            for d in resp["docs"]:
                if not d.get("found"):
                    continue
                claimed_at = datetime.fromisoformat(d["_source"]["claimed_at"].replace("Z", "+00:00"))
                if now - claimed_at < CLAIM_LEASE:
                    continue
                try:
                    self.es.index(index=self.claims, id=d["_id"], document=doc,
                                  if_seq_no=d["_seq_no"], if_primary_term=d["_primary_term"])
                    mine.add(d["_id"])
                except ConflictError:
                    pass  # another process took it over first
        return mine

    def release(self, keys: Iterable[str]) -> None:
        """Give claims back (the fetch failed): the next cycle, on any host, tries again."""
        actions = [{"_op_type": "delete", "_index": self.claims, "_id": k} for k in dict.fromkeys(keys)]
        if actions:
            bulk(self.es, actions, raise_on_error=False, refresh=False)

    def release_own(self, keys: Iterable[str]) -> int:
        """Give back those of these claims that this process still holds (a crawl that stops
        early); claims already deleted by publishing or taken over by others are left alone."""
        ids = list(dict.fromkeys(keys))
        if not ids:
            return 0
        resp = self.es.mget(index=self.claims, ids=ids)
        mine = [d["_id"] for d in resp["docs"] if d.get("found") and d["_source"].get("owner") == self.owner]
        self.release(mine)
        return len(mine)

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
        # published: the claims are done with (a missing claim is fine)
        bulk(self.es, [{"_op_type": "delete", "_index": self.claims, "_id": a["_id"]} for a in actions],
             raise_on_error=False, refresh=False)
        return ok

    def counts_by_source(self) -> dict[str, int]:
        """Articles published per source (for `newsmon source list`)."""
        if not self.es.indices.exists(index=self.index):
            return {}
        resp = self.es.search(index=self.index, size=0, query={"bool": {"must_not": {"exists": {"field": "alias_of"}}}},
                              aggs={"by": {"terms": {"field": "source_id", "size": 10_000}}})
        return {b["key"]: b["doc_count"] for b in resp["aggregations"]["by"]["buckets"]}
