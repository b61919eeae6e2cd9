"""Helpers for the search integration tests: a namespace of their own, stories produced through the
real broker, the real indexer consumer, the CLI as a subprocess, and cleanup by concrete names
(the node refuses wildcard deletes: action.destructive_requires_name)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable

from consumers.indexer import IndexerConsumer
from newsmon.es import make_es
from newsmon.kafka import dumps, ensure_topics, make_producer
from newsmon.schemas import Story
from newsmon.settings import INDEX_ARTICLES, TOPIC_ARTICLES, TOPIC_DEAD_LETTER, Settings, load_settings


def own_namespace(settings: Settings, label: str) -> Settings:
    """A namespace inside the session's (so the session cleanup would cover it too)."""
    return load_settings(namespace=f"{settings.namespace}-{label}-{uuid.uuid4().hex[:4]}")


def produce_stories(settings: Settings, stories: Iterable[Story], extra: Iterable[tuple[str, bytes]] = ()) -> int:
    ensure_topics(settings, [TOPIC_ARTICLES, TOPIC_DEAD_LETTER])
    topic = settings.topic(TOPIC_ARTICLES)
    producer = make_producer(settings)
    futures = [producer.send(topic, key=s.id.encode(), value=dumps(s.model_dump(mode="json"))) for s in stories]
    futures += [producer.send(topic, key=k.encode(), value=v) for k, v in extra]
    for f in futures:
        f.get(timeout=60)
    producer.close()
    return len(futures)


def run_indexer(settings: Settings, *, idle: float = 4.0, **kw) -> IndexerConsumer:
    consumer = IndexerConsumer(settings, **kw)
    consumer.run(max_idle_seconds=idle)
    make_es(settings).indices.refresh(index=settings.index(INDEX_ARTICLES))
    return consumer


def cli(settings: Settings, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = os.environ | {"NEWSMON_NAMESPACE": settings.namespace}
    return subprocess.run([sys.executable, "-m", "newsmon", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def cli_json(settings: Settings, *args: str) -> dict:
    out = cli(settings, *args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def delete_namespace_indices(settings: Settings) -> None:
    es = make_es(settings)
    prefix = f"{settings.namespace}-"
    names = [n for n in es.indices.get(index=f"{prefix}*", expand_wildcards="all").body if n.startswith(prefix)]
    if names:
        es.indices.delete(index=",".join(names))
    templates = es.options(ignore_status=404).indices.get_index_template(name=f"{prefix}*").get("index_templates", [])
    for t in templates:
        es.indices.delete_index_template(name=t["name"])
