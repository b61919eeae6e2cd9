"""The foundation works end to end against the real broker and the real Elasticsearch node."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from newsmon.es import make_es
from newsmon.kafka import dumps, ensure_topics, make_consumer, make_producer

pytestmark = pytest.mark.integration


def test_keyed_message_round_trip_through_real_broker(settings):
    topic = ensure_topics(settings, ["stack-check"], partitions=3)[0]
    producer = make_producer(settings)
    sent = [(f"key-{i}".encode(), {"n": i, "text": "为基层减负"}) for i in range(6)]
    for key, value in sent:
        producer.send(topic, key=key, value=dumps(value)).get(timeout=30)
    producer.flush()
    producer.close()

    consumer = make_consumer(settings, group_id=f"{settings.namespace}-check", topics=[topic])
    got: dict[bytes, tuple[int, dict]] = {}
    deadline = time.monotonic() + 60
    while len(got) < len(sent) and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=1000).values():
            for r in records:
                got[r.key] = (r.partition, json.loads(r.value))
    consumer.commit()
    consumer.close()
    assert {k: v for k, (_, v) in got.items()} == dict(sent)
    # same key -> same partition, so per-key order holds
    again = make_producer(settings)
    meta = again.send(topic, key=b"key-0", value=dumps({"n": 0})).get(timeout=30)
    again.close()
    assert meta.partition == got[b"key-0"][0]


def test_chinese_document_searchable_with_cjk_bigrams(settings):
    es = make_es(settings)
    index = settings.index("stack-check")
    es.indices.create(index=index, mappings={"properties": {"text": {"type": "text", "analyzer": "cjk"}}})
    es.index(index=index, id="tieling", document={"text": "铁岭市集中清理规范微信工作群、政务APP"}, refresh=True)
    es.index(index=index, id="steel", document={"text": "本钢研发成功高强度冷成型汽车用钢"}, refresh=True)

    tokens = [t["token"] for t in es.indices.analyze(index=index, field="text", text="微信工作群")["tokens"]]
    assert tokens == ["微信", "信工", "工作", "作群"]

    hits = es.search(index=index, query={"match_phrase": {"text": "微信工作群"}})["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["tieling"]
    # a single shared character must not match the unrelated story (bigrams, not unigrams)
    hits = es.search(index=index, query={"match": {"text": {"query": "微信工作群", "operator": "and"}}})["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["tieling"]


def test_cli_stack_status_reports_versions(stack):
    out = subprocess.run([sys.executable, "-m", "newsmon", "stack", "status", "--json"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    status = {s["name"]: s for s in json.loads(out.stdout)}
    assert status["kafka"]["healthy"] and status["kafka"]["version"].startswith("3.9")
    assert status["elasticsearch"]["healthy"] and status["elasticsearch"]["version"].startswith("8.19")
    assert "cjk analyzer ok" in status["elasticsearch"]["detail"]
