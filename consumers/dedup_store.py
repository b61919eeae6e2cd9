"""Near-duplicate cluster state shared by every processor process and kept across restarts:
the `newsmon-dedup` index in Elasticsearch (a ClusterStore for `consumers.analysis.dedup`).

One small document per story, `_id` = story id: `bands` (keyword, the 25 LSH band keys), `minhash`
(binary: the 128 MinHash values as little-endian uint32, stored, not indexed), `cluster_id`
(keyword), `first_seen` (date) and, only on documents whose cluster changed after they were
written, `first_seq`. The processor writes it when it assigns the cluster, before the story is
produced, so another processor sees it long before the indexer has the story.

One batch of the processor (all its stories) costs four requests, a fifth only after a race:
  1. one search for the batch: documents sharing a band key with a story, oldest first. The oldest
     one whose estimated Jaccard passes the threshold gives the *tentative* cluster; else an earlier
     copy in the same batch; else the story's content id. (Search is near-real-time: a document written less
     than a refresh interval ago may be missed here; step 3 corrects that.)
  2. bulk `create` of the batch's documents with their tentative cluster, then a refresh. A 409
     means the story id was already assigned (a redelivery): its stored cluster id is the answer.
  3. the same search again. The refresh in step 2 made visible every document written before it,
     by any process. Final cluster = the cluster of the *oldest* verified document, the story's own
     included. Age is the shard's sequence number: the index has one shard, so `_seq_no` is a
     single total order of writes that every process reads the same way (unlike clocks).
  4. bulk update of the documents whose final cluster differs from the tentative one (rare: two
     processes racing); `first_seq` keeps their original age.

The guarantee. For two copies A and B written at the same time by two processes, at least one of
them sees the other in step 3: if A's step-3 search missed B, B was written after A's refresh, so
B's own refresh (later) shows it A, and B is the younger. The younger always adopts the older's
cluster and the older keeps its own, so they agree; likewise for any number of copies that are all
near-duplicates of each other (everyone adopts the oldest's cluster), across processes, restarts
and re-crawls. Not guaranteed, as in the in-memory index: chains (A~B and B~C but not A~C) may
split, and a story sharing bands with more than STORY_SEARCH_SIZE older documents sees only
the oldest of them.
Redelivery of a story id returns its stored cluster id (the in-process cache avoids the requests).

Elasticsearch unreachable or overloaded (connection error, timeout, 408, 429, 5xx) → TransientError:
the consumer base rewinds and retries the batch, nothing is committed or lost, and ids stay
consistent (falling back to content ids would silently split clusters).
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from elasticsearch import ApiError, BadRequestError, Elasticsearch, TransportError

from consumers.analysis.dedup import (
    JACCARD_THRESHOLD,
    ClusterStore,
    InMemoryClusterStore,
    SignedStory,
    estimated_jaccard,
)
from consumers.base import TransientError
from newsmon.es import make_es
from newsmon.schemas import utcnow
from newsmon.settings import Settings

INDEX_DEDUP = "newsmon-dedup"
BATCH_SEARCH_SIZE = 1000   # candidates read for a whole batch in one search
STORY_SEARCH_SIZE = 100    # older candidates read per story when a batch has more than that
CACHE_SIZE = 100_000    # story id -> cluster id, about 10 MB

DEDUP_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "bands": {"type": "keyword"},
        "minhash": {"type": "binary"},
        "cluster_id": {"type": "keyword"},
        "first_seen": {"type": "date"},
        "first_seq": {"type": "long", "index": False},
    },
}
# One shard: `_seq_no` is then one order of all writes, which the convergence rule relies on.
DEDUP_SETTINGS = {"number_of_shards": 1, "auto_expand_replicas": "0-1"}


def make_cluster_store(settings: Settings) -> ClusterStore:
    """The store named by NEWSMON_DEDUP_STORE."""
    if settings.dedup_store == "memory":
        return InMemoryClusterStore()
    return ElasticsearchClusterStore(settings)


def pack(hashvalues: np.ndarray) -> str:
    return base64.b64encode(np.asarray(hashvalues, dtype="<u4").tobytes()).decode("ascii")


def unpack(value: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(value), dtype="<u4")


class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def put(self, key: str, value: str) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


class ElasticsearchClusterStore:
    """A ClusterStore in `newsmon-dedup`, shared by processes (see the module docstring)."""

    def __init__(self, settings: Settings, es: Elasticsearch | None = None, cache_size: int = CACHE_SIZE):
        self.es = es or make_es(settings)
        self.index = settings.index(INDEX_DEDUP)
        self.cache = _LRU(cache_size)
        self._ready = False

    def resolve(self, stories: Sequence[SignedStory], threshold: float = JACCARD_THRESHOLD) -> dict[str, str]:
        out = {s.story_id: self.cache[s.story_id] for s in stories if s.story_id in self.cache}
        new = list({s.story_id: s for s in stories if s.story_id not in out}.values())
        if new:
            out.update(_call_es(lambda: self._resolve(new, threshold)))
        for story_id, cluster_id in out.items():
            self.cache.put(story_id, cluster_id)
        return out

    # ------------------------------------------------------------------ the steps
    def _resolve(self, stories: list[SignedStory], threshold: float) -> dict[str, str]:
        self._ensure_index()
        tentative = self._tentative(stories, threshold)
        written, known = self._write(stories, tentative)
        final = dict(known)
        changed = {}
        for story, hits in zip(stories, self._candidates(stories), strict=True):
            if story.story_id in known:
                continue
            oldest = _oldest_verified(story, hits, threshold)
            final[story.story_id] = oldest["_source"]["cluster_id"] if oldest else tentative[story.story_id]
            if final[story.story_id] != tentative[story.story_id] and story.story_id in written:
                changed[story.story_id] = written[story.story_id]
        if changed:
            self._bulk([op for story_id, seq in changed.items() for op in (
                {"update": {"_index": self.index, "_id": story_id}},
                {"doc": {"cluster_id": final[story_id], "first_seq": seq}})])
        return final

    def _tentative(self, stories: list[SignedStory], threshold: float) -> dict[str, str]:
        tentative: dict[str, str] = {}
        earlier: list[SignedStory] = []
        for story, hits in zip(stories, self._candidates(stories), strict=True):
            oldest = _oldest_verified(story, hits, threshold)
            if oldest is not None:
                tentative[story.story_id] = oldest["_source"]["cluster_id"]
            else:
                twin = next((e for e in earlier if estimated_jaccard(story.hashvalues, e.hashvalues) >= threshold), None)
                tentative[story.story_id] = tentative[twin.story_id] if twin else story.content_id
            earlier.append(story)
        return tentative

    def _write(self, stories: list[SignedStory], tentative: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
        """Create the documents (refreshing the index); return the sequence number of each one
        written and the stored cluster of each story id that already had a document."""
        now = utcnow().isoformat()
        ops: list[dict[str, Any]] = []
        for s in stories:
            ops.append({"create": {"_index": self.index, "_id": s.story_id}})
            ops.append({"bands": list(s.band_keys), "minhash": pack(s.hashvalues),
                        "cluster_id": tentative[s.story_id], "first_seen": now})
        written, existing = {}, []
        results = self._bulk(ops)
        # A refresh request of its own: bulk's refresh=true measured ~200 ms here, this ~10-50 ms.
        self.es.indices.refresh(index=self.index)
        for result in results:
            if result.get("status") == 409:
                existing.append(result["_id"])
            else:
                written[result["_id"]] = result["_seq_no"]
        known = {}
        if existing:
            docs = self.es.mget(index=self.index, ids=existing, source_includes=["cluster_id"])["docs"]
            known = {d["_id"]: d["_source"]["cluster_id"] for d in docs if d.get("found")}
        return written, known

    def _bulk(self, operations: list[dict[str, Any]], **kwargs: Any) -> list[dict[str, Any]]:
        """The item results; a failed item other than a create conflict (409) raises."""
        items = [next(iter(item.values())) for item in self.es.bulk(operations=operations, **kwargs)["items"]]
        for result in items:
            if "error" in result and result.get("status") != 409:
                _raise_item_error(result)
        return items

    def _candidates(self, stories: list[SignedStory]) -> list[list[dict[str, Any]]]:
        """For each story, the documents sharing one of its band keys, oldest first: one search for
        the whole batch (a msearch of 30 searches costs ~4x more); one search per story only when
        the batch's candidates exceed BATCH_SEARCH_SIZE (popular stories)."""
        keys = sorted({k for s in stories for k in s.band_keys})
        hits = self.es.search(index=self.index, **_candidates_query(keys, BATCH_SEARCH_SIZE, True))["hits"]["hits"]
        if len(hits) < BATCH_SEARCH_SIZE:
            return [[h for h in hits if not set(s.band_keys).isdisjoint(h["_source"]["bands"])] for s in stories]
        searches: list[dict[str, Any]] = []
        for s in stories:
            searches += [{"index": self.index}, _candidates_query(list(s.band_keys), STORY_SEARCH_SIZE)]
        responses = self.es.msearch(searches=searches)["responses"]
        for r in responses:
            if "error" in r:
                _raise_item_error(r)
        return [r["hits"]["hits"] for r in responses]

    def _ensure_index(self) -> None:
        if self._ready:
            return
        if not self.es.indices.exists(index=self.index):
            try:
                self.es.indices.create(index=self.index, mappings=DEDUP_MAPPING, settings=DEDUP_SETTINGS)
            except BadRequestError as exc:
                if exc.error != "resource_already_exists_exception":
                    raise
        # Another process may have created it a moment ago: wait until its primary shard is active
        # (health calls an initializing new primary "yellow" already).
        self.es.cluster.health(index=self.index, wait_for_active_shards=1, timeout="30s")
        self._ready = True


def _candidates_query(keys: list[str], size: int, with_bands: bool = False) -> dict[str, Any]:
    fields = ["cluster_id", "minhash", "first_seq", *(["bands"] if with_bands else [])]
    return {"query": {"terms": {"bands": keys}}, "size": size, "sort": [{"_seq_no": "asc"}],
            "seq_no_primary_term": True, "_source": fields, "track_total_hits": False}


def _oldest_verified(story: SignedStory, hits: list[dict[str, Any]], threshold: float) -> dict[str, Any] | None:
    """The oldest candidate (by first write) whose estimated Jaccard with the story passes."""
    verified = [h for h in hits if estimated_jaccard(story.hashvalues, unpack(h["_source"]["minhash"])) >= threshold]
    return min(verified, key=lambda h: (h["_source"].get("first_seq", h["_seq_no"]), h["_id"]), default=None)


def _raise_item_error(result: dict[str, Any]) -> None:
    status = result.get("status", 500)
    message = f"dedup store: {result.get('error')}"
    if status in (408, 429) or status >= 500:
        raise TransientError(message)
    raise RuntimeError(message)


def _call_es(fn: Callable[[], dict[str, str]]) -> dict[str, str]:
    """Run `fn`, turning "Elasticsearch is unavailable right now" into TransientError."""
    try:
        return fn()
    except TransportError as exc:        # connection refused, timeout
        raise TransientError(f"dedup store unreachable: {exc}") from exc
    except ApiError as exc:
        if exc.meta.status in (408, 429) or exc.meta.status >= 500:
            raise TransientError(f"dedup store unavailable: {exc}") from exc
        raise
