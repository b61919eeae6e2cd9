"""The scheduler: puts a crawl request on `newsmon.crawl-requests` for every source that is due.

Requests are keyed by source id, so all requests for one source land on one partition and are
handled by one worker of the `newsmon crawl --worker` group at a time; adding workers adds
capacity up to the number of partitions. A source is due when its interval has passed since
it was last requested or last crawled; running two schedulers only produces duplicate
requests, which workers coalesce (a request older than the source's last crawl is skipped).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from crawler.registry import SourceRegistry
from crawler.source import Source
from newsmon.kafka import dumps, ensure_topics, send_and_wait
from newsmon.schemas import utcnow
from newsmon.settings import TOPIC_CRAWL_REQUESTS, TOPIC_RAW_PAGES, Settings


def is_due(source: Source, now: datetime) -> bool:
    if not source.enabled:
        return False
    marks = [t for t in (source.last_requested_at, source.last_crawl.finished_at if source.last_crawl else None) if t]
    return not marks or now - max(marks) >= timedelta(seconds=source.interval)


def request_crawls(settings: Settings, sources: list[Source], *, registry: SourceRegistry | None = None,
                   now: datetime | None = None) -> list[dict]:
    """Produce one crawl request per source (acknowledged before returning) and mark them."""
    if not sources:
        return []
    now = now or utcnow()
    ensure_topics(settings, [TOPIC_CRAWL_REQUESTS, TOPIC_RAW_PAGES])
    topic = settings.topic(TOPIC_CRAWL_REQUESTS)
    sent = [{"request_id": uuid.uuid4().hex, "source_id": s.id, "requested_at": now.isoformat()} for s in sources]
    # raises if the broker did not take them: the sources are then not marked requested
    send_and_wait(settings, ((topic, req["source_id"].encode(), dumps(req)) for req in sent))
    if registry is not None:
        registry.mark_requested([s.id for s in sources], now)
    return sent


def schedule_due(settings: Settings, registry: SourceRegistry, *, force: bool = False) -> list[dict]:
    now = utcnow()
    sources = [s for s in registry.all(enabled_only=True) if force or is_due(s, now)]
    return request_crawls(settings, sources, registry=registry, now=now)
