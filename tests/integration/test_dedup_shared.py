"""Near-duplicate clusters shared through Elasticsearch (`newsmon-dedup`): several processor
processes, restarts and races all give copies of one story one cluster id."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consumers.analysis.corpus import load_corpus
from consumers.analysis.dedup import ClusterIndex, DeferredClusterIndex, sign
from consumers.base import Message, TransientError
from consumers.dedup_store import INDEX_DEDUP, ElasticsearchClusterStore
from consumers.indexer import IndexerConsumer
from consumers.processor import ProcessorConsumer
from newsmon.es import make_es
from newsmon.kafka import dumps, ensure_topics, make_admin, make_producer
from newsmon.schemas import RawPage
from newsmon.settings import INDEX_ARTICLES, TOPIC_ARTICLES, TOPIC_DEAD_LETTER, TOPIC_RAW_PAGES, load_settings
from tests.integration.test_processor import read_topic
from tests.unit.test_dedup import STORY, copies_of_story

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]

UNRELATED = [
    "本报讯 全市农业部门召开春耕生产调度会，要求抓好种子化肥供应，确保粮食播种面积稳定，各县区要落实责任。" * 2,
    "记者从市气象局获悉，受冷空气影响，本周末全市将出现大风降温天气，最低气温将降至零下五摄氏度，请市民注意防寒。" * 2,
]


def processes(settings, n: int) -> list[ClusterIndex]:
    """n cluster indices as n processor processes have them: own client, own cache, one index."""
    return [ClusterIndex(ElasticsearchClusterStore(settings)) for _ in range(n)]


def test_copies_agree_across_processes_in_turn_interleaved_and_after_a_restart(fresh_settings):
    first, second = processes(fresh_settings, 2)
    original = first.assign("story", STORY)
    copies = list(copies_of_story().items())
    for n, (kind, text) in enumerate(copies[:3]):       # in turn and interleaved between processes
        assert (second if n % 2 == 0 else first).assign(f"copy-{kind}", text) == original, kind
    (restarted,) = processes(fresh_settings, 1)           # a new process: empty cache
    for kind, text in copies[3:]:
        assert restarted.assign(f"copy-{kind}", text) == original, kind
    assert restarted.assign("story", "the text changed, the story id did not") == original  # redelivery

    unrelated = {restarted.assign(f"other-{n}", text) for n, text in enumerate(UNRELATED)}
    assert len(unrelated) == len(UNRELATED) and original not in unrelated


def test_a_processor_batch_with_copies_joins_the_cluster_of_another_process(fresh_settings):
    earlier, later = processes(fresh_settings, 2)
    original = earlier.assign("story", STORY)
    batch = DeferredClusterIndex(later.store)
    for kind, text in copies_of_story().items():
        batch.assign(f"copy-{kind}", text)
    batch.assign("other", UNRELATED[0])
    ids = batch.resolve()
    assert {ids[f"copy-{kind}"] for kind in copies_of_story()} == {original}
    assert ids["other"] != original


class StepLockedStore(ElasticsearchClusterStore):
    """Fault injection (not a mock): every process waits at the barrier after its first search and
    before writing, so all of them find nothing and write their own content id at the same time —
    the race the store must resolve."""

    def __init__(self, settings, barrier: threading.Barrier):
        super().__init__(settings)
        self.barrier = barrier

    def _write(self, stories, tentative):
        self.barrier.wait(timeout=30)
        return super()._write(stories, tentative)


def _race(stores, texts: dict[str, str]) -> dict[str, str]:
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def run(store, story_id, text):
        try:
            results[story_id] = ClusterIndex(store).assign(story_id, text)
        except BaseException as exc:   # reported by the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(store, story_id, text))
               for store, (story_id, text) in zip(stores, texts.items(), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


def test_racing_processes_converge_on_one_cluster(fresh_settings):
    copies = copies_of_story()
    racers = {"story": STORY, "copy-edited": copies["edited"], "copy-truncated": copies["truncated"]}
    # Without coordination they would not all agree (the truncated copy's content id differs).
    assert len({sign(story_id, text).content_id for story_id, text in racers.items()}) == 2
    barrier = threading.Barrier(len(racers))
    results = _race([StepLockedStore(fresh_settings, barrier) for _ in racers], racers)
    assert len(set(results.values())) == 1, results

    # Free-running races (no barrier) on corpus stories and edited copies of them.
    texts = [item["input"]["text"] for item in load_corpus("all") if "text" in item["input"]][:8]
    if len(texts) < 3:
        pytest.skip("the labelled corpus is not there yet")
    for n, text in enumerate(texts):
        edited = text.replace("的", "之", 3).replace("。", "！", 2)
        pair = {f"corpus-{n}": text, f"corpus-{n}-copy": edited}
        results = _race([ElasticsearchClusterStore(fresh_settings) for _ in pair], pair)
        assert len(set(results.values())) == 1, (n, results)


def test_elasticsearch_down_retries_the_batch(fresh_settings):
    """No lost message and no inconsistent id: the processor's batch fails with TransientError
    (the base rewinds and retries) and nothing is produced."""
    down = load_settings(namespace=fresh_settings.namespace, es_url="http://127.0.0.1:9",
                         es_request_timeout=2)
    with pytest.raises(TransientError):
        ClusterIndex(ElasticsearchClusterStore(down)).assign("story", STORY)

    page = RawPage(url="http://127.0.0.1/a.html", final_url="http://127.0.0.1/a.html",
                   canonical_url="http://127.0.0.1/a.html", source_id="fixture", fetched_at=datetime.now(UTC),
                   status=200, content_type="text/html", body=f"<html><body><h1>标题</h1><p>{STORY}</p></body></html>",
                   sha256="0" * 64)
    processor = ProcessorConsumer(down)
    with pytest.raises(TransientError):
        processor.handle_batch([Message("raw", 0, 0, page.key, dumps(page.model_dump(mode="json")))])
    assert processor.stats.produced == 0 and processor.stats.dead_lettered == 0


def test_the_dedup_index_has_the_designed_mapping(fresh_settings):
    ClusterIndex(ElasticsearchClusterStore(fresh_settings)).assign("story", STORY)
    es = make_es(fresh_settings)
    index = fresh_settings.index(INDEX_DEDUP)
    props = es.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    assert props["bands"]["type"] == "keyword" and props["cluster_id"]["type"] == "keyword"
    assert props["minhash"]["type"] == "binary" and props["first_seen"]["type"] == "date"
    assert es.indices.get_settings(index=index)[index]["settings"]["index"]["number_of_shards"] == "1"


# ---------------------------------------------------------------------- through the real broker
def article_page(text: str, url: str, outlet: str) -> RawPage:
    """A story as one outlet's article page (title, then one <p> per sentence)."""
    title, _, body = text.partition("\n")
    paragraphs = "".join(f"<p>{html.escape(p)}。</p>" for p in body.split("。") if p.strip())
    doc = (f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
           f"<div class='article'><h1>{html.escape(title)}</h1>{paragraphs}</div></body></html>")
    return RawPage(url=url, final_url=url, canonical_url=url, source_id="fixture", fetched_at=datetime.now(UTC),
                   status=200, content_type="text/html; charset=utf-8", body=doc,
                   sha256=hashlib.sha256(doc.encode()).hexdigest(), outlet=outlet)


def _group_members(settings, group: str) -> int:
    admin = make_admin(settings)
    try:
        info = admin.describe_groups([group]).get(group, {})
    finally:
        admin.close()
    return len(info.get("members") or []) if info.get("group_state") == "Stable" else 0


def test_two_processor_processes_give_copies_on_different_partitions_one_cluster(fresh_settings, tmp_path):
    settings = fresh_settings
    raw_topic, *_ = ensure_topics(settings, (TOPIC_RAW_PAGES, TOPIC_ARTICLES, TOPIC_DEAD_LETTER), partitions=2)
    group = settings.topic("newsmon-processor")
    env = os.environ | {"NEWSMON_NAMESPACE": settings.namespace, "PYTHONUNBUFFERED": "1"}
    logs = [tmp_path / f"processor-{n}.log" for n in range(2)]
    procs = []
    for log in logs:
        with open(log, "wb") as out:
            procs.append(subprocess.Popen([sys.executable, "-m", "newsmon", "consume", "processor"], cwd=REPO,
                                          env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
    try:
        deadline = time.monotonic() + 60
        while _group_members(settings, group) < 2:      # both own a partition before any page arrives
            assert time.monotonic() < deadline, "processors did not join: " + logs[0].read_text()[-2000:]
            assert all(p.poll() is None for p in procs), "a processor exited: " + logs[0].read_text()[-2000:]
            time.sleep(0.5)

        copies = copies_of_story()
        # The truncated copy alone would get another content id than the others: it goes to the
        # other partition, hence to the other process.
        pages = [(0, article_page(STORY, "http://127.0.0.1/lnrb/tieling.html", "辽宁日报")),
                 (1, article_page(copies["truncated"], "http://127.0.0.1/tlrb/zhijian.html", "铁岭日报")),
                 (0, article_page(copies["edited"], "http://127.0.0.1/sina/tieling.html", "新浪新闻")),
                 (1, article_page(copies["re-headed"], "http://127.0.0.1/nen/zhuanzai.html", "东北新闻网")),
                 (0, article_page(copies["traditional"], "http://127.0.0.1/hk/tieling.html", "香港文匯報")),
                 (1, article_page("春耕生产调度会召开\n" + UNRELATED[0], "http://127.0.0.1/lnrb/chungeng.html", "辽宁日报"))]
        producer = make_producer(settings)
        for partition, page in pages:
            producer.send(raw_topic, key=page.key.encode(), value=dumps(page.model_dump(mode="json")),
                          partition=partition).get(timeout=30)
        producer.close()

        stories = [json.loads(m.value) for m in read_topic(settings, TOPIC_ARTICLES, f"{settings.namespace}-read",
                                                            expect_at_least=len(pages))]
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(60)
    outputs = [log.read_text(encoding="utf-8", errors="replace") for log in logs]
    consumed = [int(m.group(1)) for out in outputs for m in [re.search(r"processor: (\d+) consumed", out)] if m]
    assert consumed == [3, 3], outputs                  # one partition each: the work was shared

    by_page = {s["page_key"]: s for s in stories}
    assert set(by_page) == {page.key for _, page in pages}
    clusters = {by_page[page.key]["cluster_id"] for _, page in pages[:-1]}
    assert len(clusters) == 1 and None not in clusters, stories
    assert by_page[pages[-1][1].key]["cluster_id"] not in clusters

    # Analysts find every copy by the story's cluster id in the articles index.
    IndexerConsumer(settings, group_id=f"{settings.namespace}-indexer").run(max_idle_seconds=3)
    es, articles = make_es(settings), settings.index(INDEX_ARTICLES)
    es.indices.refresh(index=articles)
    copies_found = es.count(index=articles, query={"term": {"cluster_id": clusters.pop()}})["count"]
    assert copies_found == len(pages) - 1
