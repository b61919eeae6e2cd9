"""The processor consumer through the real broker: raw pages in, stories out, poison messages to
dead-letter without stopping the stream, and a replay that re-processes a dead letter."""

from __future__ import annotations

import html
import json
import os
import time
from datetime import UTC, datetime

import pytest

from consumers.base import Message, PoisonMessage
from consumers.processor import ProcessorConsumer
from newsmon.deadletter import read_dead_letters, replay
from newsmon.kafka import dumps, ensure_topics, make_consumer, make_producer
from newsmon.schemas import RawPage, url_key
from newsmon.settings import TOPIC_ARTICLES, TOPIC_RAW_PAGES

pytestmark = pytest.mark.integration


def seed_page(seeds_dir: str, name: str, url: str) -> RawPage:
    """A seed's text rendered as the article page of a news site (one <p> per paragraph)."""
    with open(os.path.join(seeds_dir, name), encoding="utf-8") as fh:
        paragraphs = [p.strip() for p in fh.read().split("\n") if p.strip()]
    title = paragraphs[0]
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs[1:])
    doc = (f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
           f"<div class='nav'><a href='/'>首页</a> | <a href='/news'>新闻</a></div>"
           f"<div class='article'><h1>{html.escape(title)}</h1>{body}</div>"
           f"<div class='footer'>版权所有 辽ICP备05022042号</div></body></html>")
    raw = doc.encode("utf-8")
    import hashlib

    return RawPage(url=url, final_url=url, canonical_url=url, source_id="fixture", fetched_at=datetime.now(UTC),
                   status=200, content_type="text/html; charset=utf-8", declared_encoding="utf-8",
                   detected_encoding="utf-8", body=doc, sha256=hashlib.sha256(raw).hexdigest(), outlet="辽宁日报")


def produce(settings, items: list[tuple[str, bytes]]) -> None:
    topic = settings.topic(TOPIC_RAW_PAGES)
    p = make_producer(settings)
    for key, value in items:
        p.send(topic, key=key.encode(), value=value).get(timeout=30)
    p.close()


def read_topic(settings, base_topic: str, group: str, expect_at_least: int, timeout: float = 60) -> list[Message]:
    c = make_consumer(settings, group, [settings.topic(base_topic)])
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for records in c.poll(timeout_ms=1000).values():
            got.extend(Message.from_record(r) for r in records)
        if len(got) >= expect_at_least:
            # drain what else is there
            for records in c.poll(timeout_ms=1500).values():
                got.extend(Message.from_record(r) for r in records)
            break
    c.close()
    return got


def test_raw_pages_become_stories_and_poison_is_dead_lettered(fresh_settings, seeds_dir):
    settings = fresh_settings
    ensure_topics(settings)
    tieling = seed_page(seeds_dir, "000_ccb63704acf008df.txt", "http://127.0.0.1/lnrb/2019-11-15/tieling.html")
    produce(settings, [
        ("not-json", b"{this is not json"),
        (tieling.key, dumps(tieling.model_dump(mode="json"))),
        ("wrong-shape", dumps({"hello": "world"})),
    ])
    stats = ProcessorConsumer(settings).run(max_idle_seconds=8)
    assert stats.consumed == 3
    assert stats.by_reason == {"invalid_json": 1, "invalid_message": 1}

    stories = [json.loads(m.value) for m in read_topic(settings, TOPIC_ARTICLES, f"{settings.namespace}-read1", 3)]
    titles = [s["title"] for s in stories]
    relevant = [s for s in stories if s["relevant"]]
    assert any("铁岭从“指尖”入手为基层干部减负" in t for t in titles)
    assert any(s["regions"] and s["regions"][0]["adcode"] == "211200" for s in relevant)
    assert "辽阳发放918万元担保贷款支持创业" in titles            # unrelated stories kept, not relevant
    assert not any(s["title"] == "辽阳发放918万元担保贷款支持创业" and s["relevant"] for s in stories)
    assert all(s["page_key"] == tieling.key and s["source_id"] == "fixture" for s in stories)

    letters = {lt.letter.reason: lt for lt in read_dead_letters(settings)}
    assert letters["invalid_json"].letter.payload == "{this is not json"
    assert letters["invalid_json"].letter.stage == "processor"


class FailOnceProcessor(ProcessorConsumer):
    """Fault injection (not a mock): the first attempt at one page fails as a bug would."""

    def __init__(self, settings, fail_key: str):
        super().__init__(settings)
        self.fail_key = fail_key

    def process(self, msg):
        if msg.key == self.fail_key:
            raise RuntimeError("simulated processing bug")
        return super().process(msg)


def test_dead_letter_replay_reprocesses(fresh_settings, seeds_dir):
    settings = fresh_settings
    ensure_topics(settings)
    page = seed_page(seeds_dir, "003_4e77723d70b999b6.txt", "http://127.0.0.1/fjsen/2019-04-08/tongan.html")
    produce(settings, [(page.key, dumps(page.model_dump(mode="json")))])
    group = f"{settings.namespace}-replay"
    stats = FailOnceProcessor(settings, page.key).run(max_idle_seconds=8)
    assert stats.by_reason.get("exception") == 1

    failed = [lt for lt in read_dead_letters(settings) if lt.letter.reason == "exception" and lt.letter.key == page.key]
    assert failed and "simulated processing bug" in failed[0].letter.error
    assert replay(settings, failed[:1]) == 1
    ProcessorConsumer(settings).run(max_idle_seconds=8)   # same group: continues after the failure

    stories = [json.loads(m.value) for m in read_topic(settings, TOPIC_ARTICLES, group, 1)]
    tongan = [s for s in stories if s["page_key"] == page.key]
    assert tongan and tongan[0]["relevant"]
    assert tongan[0]["script"] == "traditional"
    assert tongan[0]["regions"][0]["adcode"] == "350212"
    assert "国产" not in tongan[0]["text"]                  # the injected spam header is gone
    assert url_key(page.canonical_url) == page.key


def test_poison_values_do_not_stop_the_stream(fresh_settings):
    """Binary bodies and non-text types are dead-lettered with a reason; the consumer goes on."""
    settings = fresh_settings
    ensure_topics(settings)
    base = dict(url="http://127.0.0.1/x", final_url="http://127.0.0.1/x", canonical_url="http://127.0.0.1/x",
                source_id="fixture", fetched_at=datetime.now(UTC).isoformat(), status=200, sha256="0" * 64)
    produce(settings, [
        ("bin", dumps(base | {"content_type": "text/html", "body": "\x00\x01\x02\ufffd" * 500})),
        ("pdf", dumps(base | {"content_type": "application/pdf", "body": "%PDF-1.4"})),
    ])
    with pytest.raises(PoisonMessage):
        list(ProcessorConsumer(settings).process(Message("t", 0, 0, "k", b"[]")))
    stats = ProcessorConsumer(settings, group_id=f"{settings.namespace}-poison").run(max_idle_seconds=6)
    assert stats.by_reason.get("undecodable") == 1 and stats.by_reason.get("not_text") == 1
