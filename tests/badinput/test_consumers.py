"""Hostile input through the real broker, the real processor and indexer processes and the real
Elasticsearch node: every message is accounted for — stories (indexed) or exactly one dead letter
with a reason — nothing is lost, nothing is doubled, and no consumer process dies."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter, defaultdict

import pytest
from kafka.errors import MessageSizeTooLargeError

from crawler.runner import settings_env
from newsmon.deadletter import read_dead_letters
from newsmon.es import make_es
from newsmon.kafka import ensure_topics, make_producer, read_topic
from newsmon.settings import TOPIC_ARTICLES, TOPIC_RAW_PAGES, Settings
from search.indices import ARTICLES
from tests.badinput.hostile import (
    PLAN,
    Hostile,
    encode,
    fifty_megabyte_article,
    raw_page_values,
    story_values,
)
from tests.badinput.topics import produce

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]
NEWSMON = [sys.executable, "-m", "newsmon"]


def consume(settings: Settings, stage: str, idle: float, timeout: float = 600) -> tuple[dict[str, int], float]:
    """Run `newsmon consume <stage>` until idle; assert it ended normally; return its counts."""
    started = time.monotonic()
    proc = subprocess.run([*NEWSMON, "consume", stage, "--max-idle-seconds", str(idle)], env=settings_env(settings),
                          capture_output=True, text=True, timeout=timeout)
    took = time.monotonic() - started
    assert proc.returncode == 0, f"{stage} died (exit {proc.returncode}): {proc.stderr[-3000:]}"
    summary = [ln for ln in proc.stdout.splitlines() if ln.startswith(f"{stage}: ")]
    assert summary, proc.stdout[-2000:]
    words = summary[-1].split()
    return {"consumed": int(words[1]), "produced": int(words[3]), "dead_lettered": int(words[5])}, took


def crawled_fifty_megabytes(settings: Settings) -> Hostile:
    """A 50 MB article as the crawler handles it: RawPagePipeline cuts it to the page cap before
    anything is produced, and flags it truncated."""
    from scrapy.utils.test import get_crawler

    from crawler.demo_site import fixture_sources
    from crawler.items import ArticlePage
    from crawler.pipelines import RawPagePipeline
    from newsmon.schemas import utcnow

    body = fifty_megabyte_article()
    url = "http://hostile.example.cn/fifty_megabytes.html"
    crawler = get_crawler(settings_dict={"NEWSMON_MAX_PAGE_BYTES": settings.crawl_max_page_bytes})
    item = ArticlePage("hostile", url, url, 200, "text/html; charset=utf-8", body, utcnow())
    raw = RawPagePipeline(crawler)._build(item, fixture_sources()[0]).raw
    assert len(body) > 50 * 1024 * 1024 and raw.truncated
    assert len(raw.body.encode("utf-8")) <= settings.crawl_max_page_bytes
    return Hostile("fifty_megabytes_crawled", raw.key, encode(raw.model_dump(mode="json")))


def test_the_producer_refuses_a_fifty_megabyte_message_with_a_clear_error(fresh_settings):
    ensure_topics(fresh_settings, [TOPIC_RAW_PAGES])
    producer = make_producer(fresh_settings)
    try:
        with pytest.raises(MessageSizeTooLargeError, match="larger than the maximum request size"):
            producer.send(fresh_settings.topic(TOPIC_RAW_PAGES), key=b"k", value=fifty_megabyte_article())
    finally:
        producer.close()


def test_every_hostile_page_is_processed_or_dead_lettered_exactly_once(fresh_settings):
    s = fresh_settings
    ensure_topics(s)
    pages = [*raw_page_values(seed=8), crawled_fifty_megabytes(s)]
    assert len(pages) >= 1000 and len({h.key for h in pages}) == len(pages)
    assert produce(s, TOPIC_RAW_PAGES, pages) == len(pages)

    counts, took = consume(s, "processor", idle=10)
    print(f"\nprocessor: {len(pages)} hostile pages in {took:.0f}s: {counts}")
    assert counts["consumed"] == len(pages)

    stories = [json.loads(r.value) for r in read_topic(s, TOPIC_ARTICLES)]
    letters = [lt.letter for lt in read_dead_letters(s)]
    assert {lt.stage for lt in letters} <= {"processor"}
    by_page: dict[str, list[dict]] = defaultdict(list)
    for story in stories:
        by_page[story["page_key"]].append(story)
    letters_by_key: dict[str, list] = defaultdict(list)
    for lt in letters:
        letters_by_key[lt.key].append(lt)

    # every input: stories or exactly one dead letter; nothing else, nothing twice
    produced_keys = {h.key for h in pages}
    assert set(by_page) <= produced_keys and set(letters_by_key) <= produced_keys
    assert len({st["id"] for st in stories}) == len(stories) == counts["produced"]
    assert len(letters) == counts["dead_lettered"]
    outcome: dict[str, Counter] = defaultdict(Counter)
    for h in pages:
        got = letters_by_key.get(h.key, [])
        assert len(got) + (h.key in by_page) == 1, (h.kind, h.key, [lt.reason for lt in got], len(by_page.get(h.key, [])))
        outcome[h.kind]["stories" if h.key in by_page else got[0].reason] += 1
    for kind in [*PLAN, "fifty_megabytes_crawled"]:
        print(f"  {kind:24s} {dict(outcome[kind])}")

    # a reason for every letter, and none is the catch-all for an unforeseen input (a bug)
    assert all(lt.reason and lt.error for lt in letters)
    assert not [lt for lt in letters if lt.reason == "exception"], [lt.error for lt in letters if lt.reason == "exception"]
    assert set(outcome["invalid_json"]) <= {"invalid_json", "invalid_message"}
    assert outcome["json_bom"]["stories"] >= 4
    assert set(outcome["binary_body"]) <= {"undecodable", "no_content"}
    assert outcome["control"]["stories"] >= 0.8 * PLAN["control"]
    assert outcome["fifty_megabytes_crawled"]["stories"] == 1
    big = next(lt for lt in letters if lt.key in {h.key for h in pages if h.kind == "big_binary"})
    assert big.reason == "undecodable" and big.details["payload_truncated"] and big.details["payload_bytes"] > 10**7
    for story in stories:   # what the pipeline promises about every story, hostile or not
        assert all(f["text"] in story["text"] for f in story["figures"]), story["id"]
        assert "\r" not in story["title"] and "\n" not in story["title"]

    # the indexer takes every story: indexed, or one dead letter with Elasticsearch's reason
    counts, took = consume(s, "indexer", idle=6)
    print(f"indexer: {len(stories)} stories in {took:.0f}s: {counts}")
    assert counts["consumed"] == len(stories)
    es = make_es(s)
    try:
        alias = s.index(ARTICLES.name)
        es.indices.refresh(index=alias)
        indexed = es.count(index=alias)["count"]
    finally:
        es.close()
    indexer_letters = [lt.letter for lt in read_dead_letters(s) if lt.letter.stage == "indexer"]
    assert indexed + len(indexer_letters) == len(stories), (indexed, [lt.error for lt in indexer_letters])


def test_hostile_stories_are_indexed_or_dead_lettered_by_the_indexer(fresh_settings):
    s = fresh_settings
    ensure_topics(s)
    values = story_values(seed=8)
    produce(s, TOPIC_ARTICLES, values)
    counts, _ = consume(s, "indexer", idle=6)
    assert counts["consumed"] == len(values)
    letters = {lt.letter.key: lt.letter for lt in read_dead_letters(s)}
    es = make_es(s)
    try:
        alias = s.index(ARTICLES.name)
        es.indices.refresh(index=alias)
        ids = {h["_id"] for h in es.search(index=alias, size=1000, source=False)["hits"]["hits"]}
    finally:
        es.close()
    outcome: dict[str, Counter] = defaultdict(Counter)
    for h in values:
        in_index, lettered = h.key in ids, h.key in letters
        assert in_index + lettered == 1, (h.kind, h.key)
        outcome[h.kind]["indexed" if in_index else letters[h.key].reason] += 1
    print("\nindexer:", {k: dict(v) for k, v in outcome.items()})
    assert set(outcome["invalid_json"]) == {"invalid_json"}
    assert set(outcome["wrong_shape"]) == {"invalid_story"}
    assert set(outcome["control_story"]) == {"indexed"}
    assert "exception" not in {lt.reason for lt in letters.values()}, [
        (key, lt.error) for key, lt in letters.items() if lt.reason in ("exception", "mapping_error")]
