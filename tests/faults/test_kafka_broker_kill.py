"""kill -9 of the Kafka broker in the middle of a stream of 2,000 pages, restarted a few seconds
later, with the processor and indexer running as real processes: afterwards every page is indexed
exactly once or in dead-letter with a reason, and none is lost."""

from __future__ import annotations

import time

import pytest

from newsmon.kafka import ensure_topics
from newsmon.settings import TOPIC_ARTICLES, TOPIC_RAW_PAGES
from tests.faults.harness import DeadLetters, Offsets, Publisher, indexed_stories, page_accounting, wait_until
from tests.faults.pages import raw_pages

pytestmark = [pytest.mark.integration, pytest.mark.timeout(480)]

PAGES = 2000


def test_broker_kill_9_mid_stream_every_page_indexed_once_or_dead_lettered(fault_stack, fault_settings, stages,
                                                                          seeds_dir):
    s = fault_settings
    ensure_topics(s)
    published = raw_pages(seeds_dir, s.namespace, PAGES, invalid_json=12, invalid_message=8)
    # two processors of one group (the topic has 3 partitions): the stage scaled out, as deployed
    processors, indexer = [stages("processor"), stages("processor")], stages("indexer")
    for stage in (*processors, indexer):
        stage.wait_consuming()
    publisher = Publisher(s, TOPIC_RAW_PAGES, [(p.key, p.value) for p in published], per_second=80).start()

    wait_until(lambda: publisher.sent >= PAGES // 3, 60, "a third of the pages published")
    t_kill = time.monotonic()
    fault_stack.kill("kafka")
    killed_after = publisher.sent
    time.sleep(3)
    fault_stack.start_service("kafka", progress=print)
    down_for = time.monotonic() - t_kill

    publisher.join(240)
    assert publisher.done, (f"publisher: {len(publisher.acked)}/{PAGES} acknowledged, resent {publisher.resent}, "
                            f"errors {dict(publisher.errors)}")
    raw, articles = Offsets(s, TOPIC_RAW_PAGES), Offsets(s, TOPIC_ARTICLES)
    groups = (s.topic("newsmon-processor"), s.topic("newsmon-indexer"))
    drained = wait_until(
        lambda: raw.lag(groups[0]) == 0 and articles.lag(groups[1]) == 0 and articles.end(), 300,
        "processor and indexer caught up",
        lambda: (f"raw-pages lag {raw.lag(groups[0])}, articles lag {articles.lag(groups[1])} {raw.error}\n"
                 + "".join(f"--- {st.name}\n{st.output()}\n" for st in (*processors, indexer))), interval=1)
    for stage in (*processors, indexer):
        assert stage.alive, f"{stage.name} died:\n{stage.output()}"
        assert stage.stop() == 0, f"{stage.name}:\n{stage.output()}"
    raw.close()
    articles.close()

    # ------------------------------------------------------------------ the accounting
    docs = indexed_stories(s)
    letters = DeadLetters.read(s)
    dead = letters.by_key()
    pages = page_accounting({p.key for p in published}, docs, dead)
    rewritten = sum(d["version"] > 1 for d in docs)
    summary = (f"published {PAGES} ({sum(p.kind == 'page' for p in published)} pages, "
               f"{sum(p.kind != 'page' for p in published)} poison), broker killed after {killed_after} sent, "
               f"down {down_for:.0f}s, producer re-sent {publisher.resent} {dict(publisher.errors)}; "
               f"indexed {len(pages['indexed'])} pages as {len(docs)} stories ({rewritten} rewritten by "
               f"redelivery); dead-lettered {len(dead)} pages ({len(letters)} letters: {dict(letters.reasons())}); "
               f"accounted {len(pages['indexed']) + len(dead)}/{PAGES}, lost {len(pages['lost'])}, "
               f"both {len(pages['both'])}; drained in {drained:.0f}s")
    print(f"\n[faults] kafka broker kill -9: {summary}")

    for problem in ("lost", "both", "strangers", "not_exactly_once"):
        assert not pages[problem], f"{problem}: {sorted(pages[problem])[:10]}: {summary}"
    assert len(pages["indexed"]) + len(dead) == PAGES, summary
    for p in published:
        if p.kind != "page":
            assert dead.get(p.key) == {p.kind}, f"{p.key}: expected dead-letter {p.kind}, got {dead.get(p.key)}"
    assert all(lt.letter.reason and lt.letter.error and lt.letter.stage == "processor" for lt in letters.letters)
    assert letters.reasons()["spam"] > 0, summary          # real spam pages were among the stream
