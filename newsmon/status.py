"""What the running service is doing, read from Kafka, Elasticsearch and the SMTP server.

`collect_status` is the one source for `newsmon status`, the live line of `newsmon run` (which
also decides from it when a `--once` cycle is finished) and the summary of `newsmon demo`. Every
figure comes from the shared systems, not from a process's memory, so it is the same whichever
host asks and survives restarts:

- lag per consumer group and topic: end offsets minus the group's committed offsets (a group that
  has committed nothing starts at the beginning, as our consumers do: auto_offset_reset=earliest);
- messages per stage in the last minute: per topic, end offset minus the first offset whose
  timestamp is within the minute (Kafka's offsets-for-times), and documents indexed and alerts
  sent in the minute from their timestamps in Elasticsearch;
- documents, campaigns, alerts by status, dead letters, the last crawl of every source;
- health: Kafka metadata, Elasticsearch cluster health, an SMTP EHLO.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from newsmon.settings import (
    INDEX_ALERTS,
    INDEX_ARTICLES,
    INDEX_CAMPAIGNS,
    TOPIC_ARTICLES,
    TOPIC_CRAWL_REQUESTS,
    TOPIC_DEAD_LETTER,
    TOPIC_RAW_PAGES,
    Settings,
)

# (stage, consumer group base name, input topic): the groups `newsmon run` starts.
CONSUMER_STAGES: tuple[tuple[str, str, str], ...] = (
    ("crawler", "newsmon.crawlers", TOPIC_CRAWL_REQUESTS),
    ("processor", "newsmon-processor", TOPIC_RAW_PAGES),
    ("indexer", "newsmon-indexer", TOPIC_ARTICLES),
    ("alerter", "newsmon-alerter", TOPIC_ARTICLES),
)
# Which topic each stage writes, for "messages per stage in the last minute".
STAGE_OUTPUT_TOPICS: dict[str, str] = {
    "scheduler": TOPIC_CRAWL_REQUESTS,
    "crawler": TOPIC_RAW_PAGES,
    "processor": TOPIC_ARTICLES,
}
WINDOW_SECONDS = 60


@dataclass
class Health:
    name: str
    ok: bool
    detail: str


@dataclass
class GroupLag:
    stage: str
    group: str
    topic: str
    lag: int | None            # None: the topic does not exist (yet)
    committed: int
    end: int


@dataclass
class Status:
    health: list[Health] = field(default_factory=list)
    lags: list[GroupLag] = field(default_factory=list)
    last_minute: dict[str, int] = field(default_factory=dict)
    topics: dict[str, int] = field(default_factory=dict)          # messages kept per topic
    documents: dict[str, int] = field(default_factory=dict)       # all / relevant
    campaigns: int = 0
    alerts: dict[str, int] = field(default_factory=dict)          # by status
    dead_letters: int = 0
    sources: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(h.ok for h in self.health)

    def lag_of(self, stage: str) -> int | None:
        return next((g.lag for g in self.lags if g.stage == stage), None)

    @property
    def total_lag(self) -> int:
        return sum(g.lag or 0 for g in self.lags)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["healthy"] = self.healthy
        out["total_lag"] = self.total_lag
        return out


# ------------------------------------------------------------------------------------ Kafka
def kafka_figures(settings: Settings, status: Status, *, window: int = WINDOW_SECONDS) -> None:
    """Fill lags, topic sizes and last-minute counts (and Kafka's health) into `status`."""
    from kafka import KafkaConsumer, TopicPartition

    from newsmon.kafka import client_config, make_admin

    try:
        admin = make_admin(settings, request_timeout_ms=5_000)
        consumer = KafkaConsumer(**client_config(settings), request_timeout_ms=10_000)
    except Exception as exc:
        status.health.append(Health("kafka", False, f"not reachable at {settings.kafka_bootstrap}: {_short(exc)}"))
        return
    try:
        brokers = admin.describe_cluster().get("brokers", [])
        status.health.append(Health("kafka", True, f"{len(brokers)} broker(s) at {settings.kafka_bootstrap}"))
        existing = set(admin.list_topics())
        names = {base: settings.topic(base) for base in
                 (TOPIC_CRAWL_REQUESTS, TOPIC_RAW_PAGES, TOPIC_ARTICLES, TOPIC_DEAD_LETTER)}
        parts = {base: [TopicPartition(full, p) for p in sorted(consumer.partitions_for_topic(full) or ())]
                 for base, full in names.items() if full in existing}
        all_tps = [tp for tps in parts.values() for tp in tps]
        end = consumer.end_offsets(all_tps) if all_tps else {}
        begin = consumer.beginning_offsets(all_tps) if all_tps else {}
        since_ms = int((time.time() - window) * 1000)
        recent = consumer.offsets_for_times({tp: since_ms for tp in all_tps}) if all_tps else {}
        for base, tps in parts.items():
            status.topics[base] = sum(end[tp] - begin[tp] for tp in tps)
            # offsets_for_times gives None for a partition with nothing that recent
            status.last_minute[base] = sum(end[tp] - recent[tp].offset for tp in tps if recent.get(tp) is not None)
        specs = {settings.topic(g): parts[t] for _, g, t in CONSUMER_STAGES if t in parts}
        offsets = admin.list_group_offsets(specs) if specs else {}
        for stage, group_base, topic_base in CONSUMER_STAGES:
            group = settings.topic(group_base)
            if topic_base not in parts:
                status.lags.append(GroupLag(stage, group, settings.topic(topic_base), None, 0, 0))
                continue
            committed = offsets.get(group, {})
            lag = done = total = 0
            for tp in parts[topic_base]:
                meta = committed.get(tp)
                position = meta.offset if meta is not None and meta.offset >= 0 else begin[tp]
                lag += max(0, end[tp] - position)
                done += position
                total += end[tp]
            status.lags.append(GroupLag(stage, group, settings.topic(topic_base), lag, done, total))
        status.dead_letters = status.topics.get(TOPIC_DEAD_LETTER, 0)
    except Exception as exc:
        status.errors.append(f"kafka: {_short(exc)}")
    finally:
        consumer.close()
        admin.close()


# ----------------------------------------------------------------------------- Elasticsearch
def elasticsearch_figures(settings: Settings, status: Status, *, window: int = WINDOW_SECONDS,
                          sources: bool = True) -> None:
    from newsmon.es import make_es

    es = make_es(settings)
    try:
        health = es.options(request_timeout=5).cluster.health()
    except Exception as exc:
        status.health.append(Health("elasticsearch", False, f"not reachable at {settings.es_url_shown}: {_short(exc)}"))
        return
    status.health.append(Health("elasticsearch", health["status"] != "red",
                                f"cluster {health['status']} at {settings.es_url_shown}"))
    try:
        articles = settings.index(INDEX_ARTICLES)
        status.documents = {
            "all": _count(es, articles),
            "relevant": _count(es, articles, {"term": {"relevant": True}}),
        }
        status.last_minute["indexed"] = _count(es, articles, {"range": {"indexed_at": {"gte": f"now-{window}s"}}})
        status.campaigns = _count(es, settings.index(INDEX_CAMPAIGNS))
        status.alerts = _terms(es, settings.index(INDEX_ALERTS), "status")
        status.last_minute["alerts_sent"] = _count(es, settings.index(INDEX_ALERTS),
                                                   {"range": {"sent_at": {"gte": f"now-{window}s"}}})
        if sources:
            status.sources = _sources(settings, es)
    except Exception as exc:
        status.errors.append(f"elasticsearch: {_short(exc)}")
    finally:
        es.close()


def _count(es, index: str, query: dict | None = None) -> int:
    resp = es.options(ignore_status=404).count(index=index, query=query or {"match_all": {}})
    return int(resp.get("count", 0)) if resp.meta.status == 200 else 0


def _terms(es, index: str, name: str) -> dict[str, int]:
    resp = es.options(ignore_status=404).search(index=index, size=0, aggs={"by": {"terms": {"field": name}}})
    if resp.meta.status != 200:
        return {}
    return {b["key"]: b["doc_count"] for b in resp["aggregations"]["by"]["buckets"]}


def _sources(settings: Settings, es) -> list[dict[str, Any]]:
    from crawler.registry import SourceRegistry

    registry = SourceRegistry(settings, es)
    if not es.indices.exists(index=registry.index):
        return []
    out = []
    for s in registry.all():
        last = s.last_crawl
        out.append({"id": s.id, "enabled": s.enabled,
                    "last_crawl": last.finished_at.isoformat() if last and last.finished_at else None,
                    "result": last.status if last else None,
                    "pages": last.pages if last else 0, "published": last.published if last else 0,
                    "errors": last.errors if last else 0,
                    "first_error": (last.error_samples[0] if last and last.error_samples else None)})
    return out


# ------------------------------------------------------------------------------------ SMTP
def smtp_health(settings: Settings, timeout: float = 5.0) -> Health:
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with client:
            code, _ = client.ehlo()
        return Health("smtp", 200 <= code < 300, f"EHLO {code} at {where}")
    except (OSError, smtplib.SMTPException) as exc:
        return Health("smtp", False, f"not reachable at {where}: {_short(exc)}")


def collect_status(settings: Settings, *, smtp: bool = True, sources: bool = True) -> Status:
    status = Status()
    kafka_figures(settings, status)
    elasticsearch_figures(settings, status, sources=sources)
    if smtp:
        status.health.append(smtp_health(settings))
    return status


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
