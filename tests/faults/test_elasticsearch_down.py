"""Elasticsearch stopped for 60 s (the real node process, then started again) while the indexer runs:
the indexer commits nothing while Elasticsearch refuses, retries with growing delays, and once the
node is back every story is indexed exactly once."""

from __future__ import annotations

import re
import time

import pytest

from newsmon.kafka import dumps, ensure_topics
from newsmon.settings import TOPIC_ARTICLES, TOPIC_DEAD_LETTER
from tests.faults.harness import DeadLetters, Offsets, indexed_stories, produce, wait_until
from tests.faults.pages import stories

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

STORIES = 600
OUTAGE_S = 60


def test_elasticsearch_stopped_60s_indexer_commits_nothing_then_indexes_each_story_once(
        fault_stack, fault_settings, stages, seeds_dir):
    s = fault_settings
    ensure_topics(s, [TOPIC_ARTICLES, TOPIC_DEAD_LETTER])
    batch = [(st.id, dumps(st.model_dump(mode="json"))) for st in stories(seeds_dir, s.namespace, STORIES)]
    before, during = batch[:STORIES // 3], batch[STORIES // 3:]
    indexer = stages("indexer", "--flush-interval", "0.5")
    indexer.wait_consuming()
    articles, group = Offsets(s, TOPIC_ARTICLES), s.topic("newsmon-indexer")

    produce(s, TOPIC_ARTICLES, before)
    wait_until(lambda: articles.committed(group) == len(before), 120, "first stories indexed", indexer.output)

    t_stop = time.monotonic()
    assert fault_stack.stop_service("elasticsearch", progress=print)
    produce(s, TOPIC_ARTICLES, during)              # they arrive while Elasticsearch is away
    committed_while_down = set()
    while time.monotonic() - t_stop < OUTAGE_S:
        committed_while_down.add(articles.committed(group))   # None: the broker did not answer
        time.sleep(2)
    fault_stack.start_service("elasticsearch", progress=print)
    down_for = time.monotonic() - t_stop

    caught_up = wait_until(lambda: articles.lag(group) == 0, 180, "indexer caught up after the outage",
                           lambda: f"lag {articles.lag(group)} {articles.error}\n{indexer.output()}", interval=1)
    articles.close()
    assert indexer.alive, indexer.output()
    assert indexer.stop() == 0, indexer.output()

    docs = indexed_stories(s)
    ids = [d["id"] for d in docs]
    expected = {k for k, _ in batch}
    delays = [float(x) for x in re.findall(r"retrying the batch in (\d+)s", indexer.log.read_text())]
    bulk_retries = indexer.count("retry ")
    letters = DeadLetters.read(s)
    summary = (f"published {STORIES} stories ({len(before)} before the stop, {len(during)} during), "
               f"Elasticsearch down {down_for:.0f}s; offsets committed while down {sorted(committed_while_down)}; "
               f"{bulk_retries} bulk retries, {len(delays)} batch retries after {delays}s; indexed {len(ids)} "
               f"documents, {len(set(ids))} distinct, {sum(d['version'] > 1 for d in docs)} rewritten; "
               f"dead-lettered {len(letters)}; caught up {caught_up:.0f}s after the restart")
    print(f"\n[faults] elasticsearch stopped: {summary}")

    assert committed_while_down - {None} == {len(before)}, f"offsets moved while Elasticsearch was down: {summary}"
    assert len(delays) >= 2 and delays == sorted(delays) and delays[-1] > delays[0], f"no backoff: {summary}"
    assert set(ids) == expected and len(ids) == STORIES, summary
    assert len(letters) == 0, f"nothing here is poison: {letters.reasons()}"
