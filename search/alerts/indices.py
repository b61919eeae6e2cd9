"""Index names and explicit mappings of the alerting subsystem, and their idempotent creation.

Every mapping is `dynamic: strict`: a field the code does not know is a bug to surface, not a
field to invent. Nested structures that are only read back by the alerter (the ledger's entries)
are stored unindexed. Indices are created on first use; two processes racing to create one is
harmless (`resource_already_exists_exception` is the other one's success).
"""

from __future__ import annotations

from typing import Any

from elasticsearch import BadRequestError, Elasticsearch

from newsmon.settings import INDEX_ALERTS, INDEX_CAMPAIGNS, Settings

INDEX_SUBSCRIPTIONS = "newsmon-subscriptions"
# The alerter's coordination state: per-administration campaign ledgers, per-source quiet watches.
INDEX_ALERTER_STATE = "newsmon-alerter-state"

_KW = {"type": "keyword"}
_DATE = {"type": "date"}
_INT = {"type": "integer"}
# Chinese text: the `cjk` analyzer (bigrams), present on a full node and on the local stack's plugin.
_ZH_TEXT = {"type": "text", "analyzer": "cjk"}

# `newsmon-campaigns` belongs to the search package (a versioned alias, search.mappings); the
# alerter adds the fields only it writes — additive, so `put_mapping` is idempotent and safe on
# the live index. They belong in the search template too (see the report of issue 6).
CAMPAIGN_ALERTER_PROPERTIES: dict[str, Any] = {
    "scope": _KW,                           # region | national
    "region_name": _KW,                     # 辽宁省铁岭市 / 全国
    "summary": _ZH_TEXT,
    "policy_documents": {**_KW, "fields": {"text": _ZH_TEXT}},
    "created_at": _DATE,
    "alert_count": _INT,
    "story_details": {"properties": {
        "id": _KW, "title": _ZH_TEXT, "url": {"type": "keyword", "index": False}, "outlet": _KW,
        "published_at": _DATE,
    }},
    "best_figures": {"properties": {"text": _ZH_TEXT}},
}

ALERTS_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": _KW,
        "kind": _KW,                         # campaign | quiet_source
        "email": _KW,
        "mode": _KW,                         # instant | daily
        "campaign_id": _KW,
        "source_id": _KW,
        "region_name": _KW,
        "measures": _KW,
        "title": {**_ZH_TEXT, "fields": {"raw": {"type": "keyword", "ignore_above": 512}}},
        "status": _KW,                       # pending | sending | sent | failed
        "created_at": _DATE,
        "updated_at": _DATE,
        "next_attempt_at": _DATE,
        "lease_until": _DATE,
        "owner": _KW,
        "attempts": _INT,
        "last_error": {"type": "text"},
        "sent_at": _DATE,
        "message_id": _KW,
        "subject": {"type": "keyword", "ignore_above": 1024},
        "digest_id": _KW,
        # quiet_source notices
        "quiet_cycles": _INT,
        "quiet_since": _DATE,
    },
}

SUBSCRIPTIONS_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": _KW,
        "email": _KW,
        "regions": {"properties": {"name": _KW, "adcode": _KW, "code_prefix": _KW}},
        "national": {"type": "boolean"},
        "measures": _KW,
        "query": {"type": "text"},
        "mode": _KW,
        "paused": {"type": "boolean"},
        "created_at": _DATE,
        "updated_at": _DATE,
    },
}

ALERTER_STATE_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "kind": _KW,                         # ledger | source_watch
        "key": _KW,
        "entries": {"type": "object", "enabled": False},
        "updated_at": _DATE,
        # source_watch
        "source_id": _KW,
        "last_crawl_finished_at": _DATE,
        "quiet_cycles": _INT,
        "quiet_since": _DATE,
        "alerted_streak": _DATE,
    },
}

_MAPPINGS = {
    INDEX_ALERTS: ALERTS_MAPPING,
    INDEX_SUBSCRIPTIONS: SUBSCRIPTIONS_MAPPING,
    INDEX_ALERTER_STATE: ALERTER_STATE_MAPPING,
}

_ready: set[tuple[str, str]] = set()


def ensure_index(es: Elasticsearch, settings: Settings, name: str) -> str:
    """Create `name` (namespace applied) with its mapping unless it exists; return the full name."""
    full = settings.index(name)
    key = (settings.es_url, full)
    if key in _ready:
        return full
    if not es.indices.exists(index=full):
        try:
            es.indices.create(index=full, mappings=_MAPPINGS[name],
                              settings={"number_of_shards": 1, "auto_expand_replicas": "0-1"})
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
    _ready.add(key)
    return full


def ensure_campaigns(es: Elasticsearch, settings: Settings) -> str:
    """The campaigns alias, created by the search package's index management if missing, with the
    alerter's fields added; returns the alias."""
    from search.indices import CAMPAIGNS, ensure_current

    alias = settings.index(INDEX_CAMPAIGNS)
    key = (settings.es_url, alias)
    if key in _ready:
        return alias
    ensure_current(es, settings, CAMPAIGNS)
    es.indices.put_mapping(index=alias, properties=CAMPAIGN_ALERTER_PROPERTIES)
    _ready.add(key)
    return alias
