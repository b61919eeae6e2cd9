"""The source registry: the `newsmon-sources` Elasticsearch index, shared by every crawler host.

Writes wait for a refresh so that `newsmon source add` followed by `list` (or a scheduler on
another host) sees the change at once; the registry is small, so this costs nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from crawler.source import CrawlResult, Source, SourceError, parse_source
from newsmon.es import make_es
from newsmon.schemas import utcnow
from newsmon.settings import INDEX_SOURCES, Settings

_KEYWORD = {"type": "keyword"}
_REGION = {"properties": {"province": _KEYWORD, "city": _KEYWORD, "county": _KEYWORD, "adcode": _KEYWORD,
                          "lat": {"type": "float"}, "lon": {"type": "float"}}}
# Explicit, closed mapping: the registry is read by id and listed, so only the fields a Kibana
# view or a filter needs are indexed; rules and hints are stored but not indexed.
SOURCES_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "id": _KEYWORD,
        "name": {"type": "text", "fields": {"raw": _KEYWORD}},
        "outlet": {"type": "text", "fields": {"raw": _KEYWORD}},
        "region": _REGION,
        "type": _KEYWORD,
        "start_urls": _KEYWORD,
        "allowed_domains": _KEYWORD,
        "link_rules": {"type": "object", "enabled": False},
        "extraction_hints": {"type": "object", "enabled": False},
        "encoding": _KEYWORD,
        "interval": _KEYWORD,
        "max_pages": {"type": "integer"},
        "epaper_days": {"type": "integer"},
        "epaper_anchor_date": {"type": "date"},
        "refresh_after": _KEYWORD,
        "enabled": {"type": "boolean"},
        "verified": {"type": "boolean"},
        "notes": {"type": "text"},
        "added_at": {"type": "date"},
        "updated_at": {"type": "date"},
        "last_requested_at": {"type": "date"},
        "last_crawl": {"properties": {
            "status": _KEYWORD, "started_at": {"type": "date"}, "finished_at": {"type": "date"},
            "pages": {"type": "integer"}, "articles_new": {"type": "integer"}, "published": {"type": "integer"},
            "skipped_seen": {"type": "integer"}, "not_modified": {"type": "integer"},
            "robots_blocked": {"type": "integer"}, "errors": {"type": "integer"},
            "error_samples": {"type": "text"}, "worker": _KEYWORD,
        }},
    },
}


class UnknownSource(SourceError):
    pass


class SourceRegistry:
    def __init__(self, settings: Settings, es: Elasticsearch | None = None):
        self.settings = settings
        self.es = es or make_es(settings)
        self.index = settings.index(INDEX_SOURCES)
        self._ready = False

    def ensure_index(self) -> None:
        """Create the index with its mapping if it is missing (idempotent, race-safe)."""
        if self._ready:
            return
        if not self.es.indices.exists(index=self.index):
            self.es.options(ignore_status=400).indices.create(
                index=self.index, mappings=SOURCES_MAPPING,
                settings={"number_of_shards": 1, "auto_expand_replicas": "0-1"})
        self._ready = True

    # --- reading -------------------------------------------------------------------------------
    def get(self, source_id: str) -> Source:
        self.ensure_index()
        try:
            doc = self.es.get(index=self.index, id=source_id)
        except NotFoundError:
            raise UnknownSource(f"no source {source_id!r} (see: newsmon source list)") from None
        return Source.model_validate(doc["_source"])

    def exists(self, source_id: str) -> bool:
        self.ensure_index()
        return bool(self.es.exists(index=self.index, id=source_id))

    def all(self, *, enabled_only: bool = False) -> list[Source]:
        self.ensure_index()
        query = {"term": {"enabled": True}} if enabled_only else {"match_all": {}}
        out: list[Source] = []
        # The registry holds hundreds of sources, not millions: one sorted page at a time.
        search_after = None
        while True:
            kwargs: dict[str, Any] = {"index": self.index, "query": query, "size": 500, "sort": [{"id": "asc"}]}
            if search_after:
                kwargs["search_after"] = search_after
            hits = self.es.search(**kwargs)["hits"]["hits"]
            out.extend(Source.model_validate(h["_source"]) for h in hits)
            if len(hits) < 500:
                return out
            search_after = hits[-1]["sort"]

    def many(self, ids: list[str]) -> list[Source]:
        return [self.get(i) for i in ids]

    # --- writing -------------------------------------------------------------------------------
    def add(self, source: Source) -> Source:
        """Store a new source; a duplicate id is an error (op_type=create decides atomically)."""
        self.ensure_index()
        try:
            self.es.create(index=self.index, id=source.id, document=source.to_document(), refresh="wait_for")
        except ConflictError:
            raise SourceError(f"source {source.id!r} already exists (use: newsmon source edit {source.id})") from None
        return source

    def save(self, source: Source) -> Source:
        """Replace a source (edit, enable/disable, import --update), stamping updated_at."""
        self.ensure_index()
        source.updated_at = utcnow()
        self.es.index(index=self.index, id=source.id, document=source.to_document(), refresh="wait_for")
        return source

    def put(self, source: Source) -> bool:
        """Add a source, or replace an existing one's definition while keeping its history (when it
        was added, its last crawl and request), as `source import --update` and the demo do.
        Returns True when the source was new."""
        if not self.exists(source.id):
            self.add(source)
            return True
        old = self.get(source.id)
        source.added_at, source.last_crawl, source.last_requested_at = old.added_at, old.last_crawl, old.last_requested_at
        self.save(source)
        return False

    def update(self, source_id: str, changes: dict[str, Any]) -> Source:
        """Apply field changes to a stored source and re-validate the whole record."""
        current = self.get(source_id)
        doc = current.to_document() | changes
        doc["id"] = source_id
        return self.save(parse_source(doc))

    def remove(self, source_id: str) -> None:
        self.ensure_index()
        try:
            self.es.delete(index=self.index, id=source_id, refresh="wait_for")
        except NotFoundError:
            raise UnknownSource(f"no source {source_id!r} (see: newsmon source list)") from None

    def record_crawl(self, source_id: str, result: CrawlResult) -> None:
        """Store the outcome of a crawl on the source (partial update: edits made meanwhile stay)."""
        self.ensure_index()
        self.es.options(ignore_status=404).update(
            index=self.index, id=source_id, doc={"last_crawl": result.model_dump(mode="json")}, refresh="wait_for")

    def mark_requested(self, source_ids: list[str], when: datetime) -> None:
        self.ensure_index()
        for sid in source_ids:
            self.es.options(ignore_status=404).update(
                index=self.index, id=sid, doc={"last_requested_at": when.isoformat()})
        self.es.indices.refresh(index=self.index)
