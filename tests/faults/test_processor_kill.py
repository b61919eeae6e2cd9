"""kill -9 of a processor in the middle of a batch: its stories are already on newsmon.articles but
the batch's offsets are not committed, so a second processor of the same group gets those pages
again. Story ids are stable, so each story is on Elasticsearch exactly once; a poison message of
the killed batch may be dead-lettered twice, and the letters name the topic, partition and offset
they came from, so counted by those, dead-letter holds each poison message once."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from newsmon.kafka import ensure_topics
from newsmon.settings import TOPIC_ARTICLES, TOPIC_RAW_PAGES
from tests.faults.harness import (
    DeadLetters,
    Offsets,
    indexed_stories,
    page_accounting,
    produce,
    read_topic,
    wait_until,
)
from tests.faults.pages import raw_pages

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

PAGES = 400


def test_processor_kill_9_mid_batch_redelivers_and_each_story_is_indexed_once(fault_settings, stages, seeds_dir):
    s = fault_settings
    ensure_topics(s)
    published = raw_pages(seeds_dir, s.namespace, PAGES, invalid_json=6, invalid_message=4)
    poison = {p.key: p.kind for p in published if p.kind != "page"}
    produce(s, TOPIC_RAW_PAGES, [(p.key, p.value) for p in published])
    indexer, first = stages("indexer"), stages("processor")
    raw, articles = Offsets(s, TOPIC_RAW_PAGES), Offsets(s, TOPIC_ARTICLES)
    group = s.topic("newsmon-processor")

    # Mid-batch: the processor has put stories on newsmon.articles for pages whose offsets it has
    # not committed. It analyses a whole batch, then produces and commits within a fraction of a
    # second, so it is frozen (SIGSTOP) when new stories show up, and killed only if a moment later
    # (an OffsetCommit already on the wire lands) the commit has still not moved.
    killed_at = None
    baseline = {"committed": -1, "stories": 0}
    deadline = time.monotonic() + 240
    while killed_at is None:
        assert time.monotonic() < deadline and first.alive, f"never caught mid-batch\n{first.output()}"
        committed = raw.committed(group)
        on_topic = articles.end()        # read after the commit: holds every story of committed pages
        if committed is None or on_topic is None:
            time.sleep(0.01)
            continue
        if committed != baseline["committed"]:
            baseline.update(committed=committed, stories=on_topic)
            continue
        if not (0 < committed < PAGES and on_topic > baseline["stories"]):
            time.sleep(0.01)
            continue
        first.pause()
        time.sleep(0.3)
        if raw.committed(group) == committed:
            first.kill()
            killed_at = (committed, on_topic)
        else:
            first.resume()
    committed_at_kill, stories_at_kill = killed_at
    second = stages("processor")
    indexer_group = s.topic("newsmon-indexer")
    drained = wait_until(
        lambda: raw.lag(group) == 0 and articles.lag(indexer_group) == 0, 300, "second processor and indexer done",
        lambda: (f"raw lag {raw.lag(group)}, articles lag {articles.lag(indexer_group)} {raw.error}\n"
                 f"--- second processor\n{second.output()}\n--- indexer\n{indexer.output()}"), interval=1)
    raw.close()
    articles.close()
    assert second.stop() == 0 and indexer.stop() == 0, f"{second.output()}\n{indexer.output()}"

    on_topic = Counter(key for key, _ in read_topic(s, TOPIC_ARTICLES))
    redelivered = sum(n - 1 for n in on_topic.values())
    docs = indexed_stories(s)
    letters = DeadLetters.read(s)
    dead = letters.by_key()
    pages = page_accounting({p.key for p in published}, docs, dead)
    summary = (f"published {PAGES} ({len(poison)} poison); killed at {committed_at_kill} pages committed with "
               f"{stories_at_kill} stories on the topic; stories on the topic {sum(on_topic.values())}, distinct "
               f"{len(on_topic)} ({redelivered} produced again after the kill); indexed {len(pages['indexed'])} "
               f"pages as {len(docs)} stories; dead letters {len(letters)}, distinct by topic/partition/offset "
               f"{letters.distinct()}, pages {len(dead)} ({dict(letters.reasons())}); lost {len(pages['lost'])}; "
               f"drained in {drained:.0f}s")
    print(f"\n[faults] processor kill -9: {summary}")

    assert redelivered > 0, f"the killed batch was not redelivered (not killed mid-batch?): {summary}"
    assert {d["id"] for d in docs} == set(on_topic) and len(docs) == len(on_topic), summary
    for problem in ("lost", "both", "strangers", "not_exactly_once"):
        assert not pages[problem], f"{problem}: {sorted(pages[problem])[:10]}: {summary}"
    assert {k: dead.get(k) for k in poison} == {k: {kind} for k, kind in poison.items()}, summary
    assert letters.distinct() == len(dead), f"a dead-lettered message counted twice by its offset: {summary}"
