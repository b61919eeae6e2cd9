"""The indexer consumer's guarantees against the real broker and Elasticsearch: idempotent
redelivery, mapping rejects dead-lettered without losing the rest of the bulk, nothing committed
while Elasticsearch is down, and lingering to fill a bulk."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from consumers.base import Message
from consumers.indexer import IndexerConsumer
from newsmon.deadletter import read_dead_letters
from newsmon.es import make_es
from newsmon.kafka import dumps, make_admin
from newsmon.schemas import Region
from newsmon.settings import INDEX_ARTICLES, load_settings
from search.indices import ARTICLES, init_index
from tests.search.helpers import delete_namespace_indices, own_namespace, produce_stories, run_indexer
from tests.search.seed_stories import load_seed_stories

pytestmark = pytest.mark.integration


@pytest.fixture
def ns(settings):
    s = own_namespace(settings, "idx")
    yield s
    delete_namespace_indices(s)


def _count(s) -> int:
    es = make_es(s)
    es.indices.refresh(index=s.index(INDEX_ARTICLES))
    return es.count(index=s.index(INDEX_ARTICLES))["count"]


def test_delivering_the_same_messages_twice_leaves_the_count_unchanged(ns, seeds_dir):
    stories = [st.story for st in load_seed_stories(seeds_dir)]
    produce_stories(ns, stories)
    first = run_indexer(ns)
    assert first.stats.consumed == len(stories) and first.indexed == len(stories)
    assert _count(ns) == len(stories)
    es = make_es(ns)
    before = es.get(index=ns.index(INDEX_ARTICLES), id=stories[0].id)

    produce_stories(ns, stories)                       # the processor re-sent every story
    second = run_indexer(ns)
    assert second.stats.consumed == len(stories)       # only the new messages: offsets were committed
    assert _count(ns) == len(stories)
    after = es.get(index=ns.index(INDEX_ARTICLES), id=stories[0].id)
    assert after["_version"] == before["_version"] + 1  # overwritten, not duplicated
    assert after["_source"]["indexed_at"] > before["_source"]["indexed_at"]


def test_a_mapping_rejected_document_is_dead_lettered_and_the_rest_of_the_bulk_indexed(ns, seeds_dir):
    good = [st.story for st in load_seed_stories(seeds_dir)][:3]
    bad = good[0].model_copy(update={"id": "bad-coordinates", "regions": [
        Region(province="辽宁省", city="铁岭市", adcode="211200", lat=300.0, lon=123.8)]})
    produce_stories(ns, [good[0], bad, good[1], good[2]],
                    extra=[("not-json", b"{oops"), ("not-a-story", dumps({"hello": "world"}))])
    consumer = run_indexer(ns)
    assert consumer.stats.consumed == 6 and consumer.stats.batches >= 1
    assert consumer.stats.by_reason == {"mapping_error": 1, "invalid_json": 1, "invalid_story": 1}
    assert _count(ns) == 3
    assert not make_es(ns).exists(index=ns.index(INDEX_ARTICLES), id="bad-coordinates")

    letters = {lt.letter.key: lt.letter for lt in read_dead_letters(ns)}
    letter = letters["bad-coordinates"]
    assert letter.stage == "indexer" and letter.reason == "mapping_error"
    assert "document_parsing_exception" in letter.error and "300" in letter.error
    assert letter.details["doc_id"] == "bad-coordinates" and letter.details["status"] == 400
    assert '"lat":300.0' in letter.payload                     # the original message, for a replay
    assert letters["not-a-story"].reason == "invalid_story" and letters["not-json"].reason == "invalid_json"
    assert run_indexer(ns).stats.consumed == 0                 # all six were committed


def test_nothing_is_committed_while_elasticsearch_refuses_writes(ns, seeds_dir):
    stories = [st.story for st in load_seed_stories(seeds_dir)][:5]
    produce_stories(ns, stories)
    group = ns.topic("newsmon-indexer-down")
    consumer = IndexerConsumer(ns, group_id=group, max_retries=1)
    consumer._check_index()                                    # the index exists ...
    consumer.sink.es = make_es(load_settings(namespace=ns.namespace, es_url="http://127.0.0.1:9"))
    consumer.sink.initial_backoff = 0.05                       # ... then Elasticsearch goes away
    runner = threading.Thread(target=consumer.run)
    runner.start()
    deadline = time.monotonic() + 60
    while consumer.stats.retries < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    consumer.stop()
    runner.join(timeout=60)
    assert consumer.stats.retries >= 2 and consumer.stats.consumed == 0

    admin = make_admin(ns)
    committed = admin.list_group_offsets(group).get(group, {})
    admin.close()
    assert all(meta.offset < 0 for meta in committed.values())  # not one offset moved

    again = run_indexer(ns, group_id=group)                     # Elasticsearch is back
    assert again.stats.consumed == 5 and _count(ns) == 5


def _record(offset: int, value: bytes):
    return SimpleNamespace(topic="t", partition=0, offset=offset, key=b"k", value=value, timestamp=0)


class _Poller:
    """Stands in for the Kafka consumer inside one handle_batch: hands out queued records."""

    def __init__(self, *rounds):
        self.rounds = list(rounds)
        self.polls = 0

    def poll(self, timeout_ms, max_records):
        self.polls += 1
        if not self.rounds:
            time.sleep(timeout_ms / 1000)
            return {}
        return {"tp": self.rounds.pop(0)}


class _CountingBulks:
    def __init__(self, es):
        self.es = es
        self.sizes: list[int] = []

    def bulk(self, **kw):
        self.sizes.append(len(kw["operations"]))
        return self.es.bulk(**kw)


def test_a_batch_lingers_for_more_messages_and_sends_bulks_when_full_or_on_the_timer(ns, seeds_dir):
    init_index(make_es(ns), ns, ARTICLES)
    stories = [st.story for st in load_seed_stories(seeds_dir)][:6]
    records = [_record(n, dumps(s.model_dump(mode="json"))) for n, s in enumerate(stories)]

    consumer = IndexerConsumer(ns, flush_interval=1.5, max_actions=4)
    bulks = _CountingBulks(consumer.es)
    consumer.sink.es = bulks
    consumer._consumer = _Poller([records[1]], [], [records[2], records[3]], [records[4]])
    batch = [Message.from_record(records[0])]
    started = time.monotonic()
    consumer.handle_batch(batch)
    waited = time.monotonic() - started
    # polled into the same batch until the timer ran out; a bulk left as soon as 4 documents were in
    assert [m.offset for m in batch] == [0, 1, 2, 3, 4] and bulks.sizes == [4, 1] and consumer.indexed == 5
    assert 1.4 <= waited < 6

    consumer._consumer = _Poller()
    started = time.monotonic()
    consumer.handle_batch([Message.from_record(records[5])])
    assert consumer.indexed == 6 and bulks.sizes == [4, 1, 1]
    assert 1.4 <= time.monotonic() - started < 6       # a lone message waits for the timer, no longer
    assert _count(ns) == 6
