"""`newsmon run` and `newsmon status` as real processes against the real broker and Elasticsearch.

- SIGTERM in the middle of a crawl loses nothing: after a second run every fixture article is
  indexed exactly once (or dead-lettered with a reason).
- `newsmon status` shows the lag while pages wait and zero once the stages caught up.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from consumers.processor import ProcessorConsumer
from newsmon.deadletter import read_dead_letters
from newsmon.kafka import dumps, ensure_topics, make_producer
from newsmon.schemas import RawPage
from newsmon.settings import TOPIC_RAW_PAGES
from newsmon.status import collect_status
from tests.run.conftest import (
    SITE_DIR,
    article_of,
    cli_env,
    crawlable_articles,
    indexed_stories,
    newsmon,
    register_sources,
)
from tests.search.helpers import run_indexer

pytestmark = pytest.mark.integration


def _raw_pages_published(settings) -> int:
    return collect_status(settings, smtp=False, sources=False).topics.get(TOPIC_RAW_PAGES, 0)


def test_sigterm_mid_crawl_loses_nothing(fresh_settings, slow_site, manifest, tmp_path):
    s = fresh_settings
    register_sources(s, slow_site.base_url)
    # a politeness delay makes the crawl of the ~55 pages take well over ten seconds
    env = cli_env(s, tmp_path, NEWSMON_CRAWL_DELAY="0.25", NEWSMON_CRAWL_AUTOTHROTTLE="false")
    first = subprocess.Popen([sys.executable, "-m", "newsmon", "run", "--no-start-stack", "--schedule-every", "1h"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while _raw_pages_published(s) < 3:
            assert first.poll() is None, first.stdout.read()
            assert time.monotonic() < deadline, "the first run published nothing within 120 s"
            time.sleep(0.3)
        first.send_signal(signal.SIGTERM)
        out, _ = first.communicate(timeout=90)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, out
    assert "stopped by signal" in out
    at_stop = _raw_pages_published(s)
    expected = crawlable_articles(manifest)
    assert at_stop < len(expected), f"the crawl was not interrupted: {at_stop} pages already published"
    status = collect_status(s, smtp=False, sources=False)
    assert status.lag_of("crawler") >= 1, "the interrupted crawl requests must stay uncommitted"

    second = newsmon("run", "--no-start-stack", "--once", "--timeout", "240", env=env, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "every stage idle" in second.stdout

    stories = indexed_stories(s)
    by_article = Counter(article_of(st["url"], manifest) for st in stories)
    dead = {article_of(json.loads(letter.letter.payload).get("url", ""), manifest): letter.letter.reason
            for letter in read_dead_letters(s) if letter.letter.stage == "processor"}
    missing = [a["id"] for a in expected if a["id"] not in by_article and a["id"] not in dead]
    assert not missing, f"articles neither indexed nor dead-lettered: {missing}"
    assert None not in by_article, "a story from a page that is not a fixture article"
    # exactly once: no story twice (a re-published page must overwrite its stories, same ids)
    per_story = Counter((st["page_key"], st["title"], st["text"]) for st in stories)
    assert max(per_story.values()) == 1, [k[:2] for k, n in per_story.items() if n > 1]
    relevant = {a["id"] for a in expected if a["relevant"]}
    found_relevant = {article_of(st["url"], manifest) for st in stories if st["relevant"]}
    assert relevant <= found_relevant, f"relevant articles not indexed as relevant: {relevant - found_relevant}"
    final = collect_status(s, smtp=False, sources=False)
    assert final.total_lag == 0
    print(f"\n[sigterm] published before SIGTERM {at_stop}, after the second run "
          f"{final.topics[TOPIC_RAW_PAGES]} messages; {len(stories)} stories indexed from "
          f"{len(by_article)} articles; dead-lettered {dead}")


def _fixture_pages(manifest, base: str, n: int) -> list[RawPage]:
    pages = []
    for a in crawlable_articles(manifest)[:n]:
        raw = (SITE_DIR / "www" / a["path"].lstrip("/")).read_bytes()
        url = base + a["path"]
        pages.append(RawPage(url=url, final_url=url, canonical_url=url, source_id="status-test",
                             fetched_at=datetime.now(UTC), status=200, content_type="text/html",
                             detected_encoding=a["encoding"], body=raw.decode(a["encoding"]),
                             sha256=hashlib.sha256(raw).hexdigest(), outlet=a["outlet"]))
    return pages


def _status_json(settings, tmp_path) -> dict:
    out = newsmon("status", "--json", "--no-smtp", env=cli_env(settings, tmp_path), timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _lag(status: dict, stage: str) -> int:
    return next(g["lag"] for g in status["lags"] if g["stage"] == stage)


def test_status_shows_lag_while_queued_and_zero_once_idle(fresh_settings, manifest, tmp_path):
    s = fresh_settings
    ensure_topics(s)
    pages = _fixture_pages(manifest, "http://127.0.0.1:8765", 12)
    producer = make_producer(s)
    for p in pages:
        producer.send(s.topic(TOPIC_RAW_PAGES), key=p.key.encode(), value=dumps(p.model_dump(mode="json")))
    producer.flush()
    producer.close()

    queued = _status_json(s, tmp_path)
    assert _lag(queued, "processor") == len(pages)
    assert queued["last_minute"][TOPIC_RAW_PAGES] == len(pages)
    assert queued["total_lag"] == len(pages)

    stats = ProcessorConsumer(s).run(max_idle_seconds=3)
    processed = _status_json(s, tmp_path)
    assert _lag(processed, "processor") == 0
    assert _lag(processed, "indexer") == stats.produced > 0    # the stories now wait for the indexer
    assert processed["topics"]["newsmon.articles"] == stats.produced

    run_indexer(s, idle=3)
    idle = _status_json(s, tmp_path)
    assert _lag(idle, "indexer") == 0 and _lag(idle, "processor") == 0
    assert idle["documents"]["all"] == stats.produced
    assert idle["last_minute"]["indexed"] == stats.produced
    assert {h["name"] for h in idle["health"]} == {"kafka", "elasticsearch"} and idle["healthy"]


def test_status_exits_1_with_one_line_when_kafka_is_down(fresh_settings, tmp_path):
    env = cli_env(fresh_settings, tmp_path, NEWSMON_KAFKA_BOOTSTRAP="127.0.0.1:1", NEWSMON_SMTP_PORT="1")
    out = newsmon("status", env=env, timeout=60)
    assert out.returncode == 1
    assert "Traceback" not in out.stdout + out.stderr
    assert "kafka" in out.stdout and "not reachable at 127.0.0.1:1" in out.stdout
