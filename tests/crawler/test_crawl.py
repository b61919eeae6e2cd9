"""Crawls of the fixture site against the real Kafka broker and Elasticsearch node."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import pytest

from crawler.demo_site import fixture_sources
from crawler.runner import run_crawl
from newsmon.schemas import url_key
from tests.crawler.conftest import read_raw_pages

pytestmark = pytest.mark.integration

SOURCE_IDS = ["fixture-listing", "fixture-epaper", "fixture-rss", "fixture-atom", "fixture-sitemap"]


def _sources(site, *ids):
    return [s for s in fixture_sources(site.base_url) if not ids or s.id in ids]


def _expected_paths(manifest, source_id):
    return {a["linked_as"] for a in manifest["articles"] if source_id in a["sources"]}


@pytest.mark.parametrize("source_id", SOURCE_IDS)
def test_each_source_type_publishes_every_article_and_nothing_else(source_id, site, manifest, crawl_settings):
    run = run_crawl(crawl_settings, _sources(site, source_id), timeout=180)
    outcome = run.outcomes[source_id]
    messages = read_raw_pages(crawl_settings)
    published = [urlsplit(page.url).path for _, page in messages]
    assert Counter(published).most_common(1)[0][1] == 1, "an article was published twice"
    assert set(published) == _expected_paths(manifest, source_id)
    assert not set(published) & set(manifest["navigation_pages"] + manifest["furniture_pages"])
    assert outcome.published == len(published)
    for key, page in messages:
        assert key == url_key(page.canonical_url) == page.key
        assert page.source_id == source_id and page.status == 200 and len(page.sha256) == 64
        assert page.outlet == "滨江日报" and page.home_region.adcode == "230100"


def test_listing_crawl_decodes_charsets_obeys_robots_and_recovers(site, manifest, crawl_settings):
    site.reset()
    run = run_crawl(crawl_settings, _sources(site, "fixture-listing"), timeout=180)
    outcome = run.outcomes["fixture-listing"]
    pages = {urlsplit(p.final_url).path: p for _, p in read_raw_pages(crawl_settings)}
    by_id = {a["id"]: a for a in manifest["articles"]}

    gbk = pages[by_id["seed-001"]["path"]]        # GBK, no charset anywhere
    assert gbk.declared_encoding is None and gbk.detected_encoding in ("gbk", "gb18030", "gb2312")
    assert by_id["seed-001"]["title"] in gbk.body
    big5 = pages[by_id["seed-003"]["path"]]       # Big5, <meta> wrongly says gb2312
    assert big5.declared_encoding in ("gb2312", "gb18030") and big5.detected_encoding in ("big5", "cp950", "big5hkscs")
    assert "廈門同安區:精簡微信工作群 為基層干部減負" in big5.body
    for page in pages.values():
        assert "\ufffd" not in page.body[:2000]

    # robots.txt: the disallowed page is linked but never requested
    assert all(not r.path.startswith("/private/") for r in site.requests)
    assert outcome.robots_blocked >= 1
    # 500 then 200, 429 (Retry-After: 1) then 200: retried, recovered, published once
    flaky = by_id["u-tax-relief"]["path"]
    assert site.fetched(flaky, 500) == 1 and site.fetched(flaky, 200) == 1 and flaky in pages
    limited = by_id["nanhai-meetings"]["path"]
    times = [r.at for r in site.requests if r.path == limited]
    assert [r.status for r in site.requests if r.path == limited] == [429, 200] and times[1] - times[0] >= 0.9
    # the 404 is counted, not published; the slow page and the redirected one are published
    assert outcome.http_statuses.get("404") == 1 and not any("9404" in p for p in pages)
    assert by_id["u-ice-festival"]["path"] in pages
    redirected = pages[by_id["tianshui-taskforces"]["path"]]
    assert urlsplit(redirected.url).path == "/news/old/2005.html"
    # a redirect off the allowed domains is not followed
    assert not any(r.host.startswith("localhost") for r in site.requests)
    assert all("newsmon" in r.user_agent and "http" in r.user_agent for r in site.requests)


def test_every_article_published_once_across_runs_and_restarts(site, manifest, crawl_settings):
    sources = _sources(site)
    site.reset()
    first = run_crawl(crawl_settings, sources, timeout=180)
    assert not first.failed
    fetched_first = Counter(r.path for r in site.requests if r.status == 200)
    # Each run is a new crawler process: the second run is a restart with only the shared state.
    site.reset()
    second = run_crawl(crawl_settings, sources, timeout=180)
    assert sum(o.published for o in second.outcomes.values()) == 0
    article_paths = {a["path"] for a in manifest["articles"]} | {a["linked_as"] for a in manifest["articles"]}
    refetched = [r.path for r in site.requests if r.path in article_paths and r.status == 200]
    assert refetched == [], f"articles fetched again: {refetched}"
    assert sum(o.skipped_seen for o in second.outcomes.values()) > 0

    keys = Counter(k for k, _ in read_raw_pages(crawl_settings))
    expected = {a["linked_as"] for a in manifest["articles"] if a["sources"]}
    assert len(keys) == len(expected) and set(keys.values()) == {1}
    assert all(fetched_first[a["path"]] == 1 for a in manifest["articles"] if a["sources"])


def test_two_crawler_processes_at_once_publish_each_shared_article_once(site, manifest, crawl_settings):
    """A listing and a sitemap that link the same articles, crawled by two processes at the same
    time (as two workers would): the claims in the shared state decide who fetches each one."""
    import threading

    runs = {}
    threads = [threading.Thread(target=lambda sid=sid: runs.__setitem__(sid, run_crawl(
        crawl_settings, _sources(site, sid), timeout=180))) for sid in ("fixture-listing", "fixture-sitemap")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keys = Counter(k for k, _ in read_raw_pages(crawl_settings))
    assert set(keys.values()) == {1}, [k for k, n in keys.items() if n > 1]
    shared = _expected_paths(manifest, "fixture-listing") | _expected_paths(manifest, "fixture-sitemap")
    assert len(keys) == len(shared)
    assert sum(r.outcomes[sid].published for sid, r in runs.items()) == len(shared)


def test_a_failed_produce_is_an_error_not_silence(crawl_settings):
    """A page the broker cannot take (over the producer's 16 MB request limit) is dropped with an
    error counted and described, and never marked as published."""
    import asyncio

    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler

    from crawler.demo_site import fixture_sources
    from crawler.items import ArticlePage
    from crawler.pipelines import KafkaPipeline, RawPagePipeline
    from crawler.scrapy_settings import scrapy_settings
    from crawler.spiders import ListingSpider
    from crawler.state import CrawlState
    from newsmon.schemas import utcnow

    s = crawl_settings.model_copy(update={"crawl_max_page_bytes": 40 * 1024 * 1024})
    state = CrawlState(s)
    state.ensure_index()
    source = fixture_sources()[0]
    crawler = get_crawler(ListingSpider, settings_dict=scrapy_settings(s))
    crawler.spider = ListingSpider(source, crawl_state=state)
    crawler.spider.crawler = crawler
    crawler.stats.open_spider()
    pipeline = KafkaPipeline.from_crawler(crawler)
    pipeline.open_spider()
    try:
        body = b"<html><body>" + "为基层减负。".encode() * 1_000_000 + b"</body></html>"  # 18 MB
        item = ArticlePage(source.id, "http://127.0.0.1/big.html", "http://127.0.0.1/big.html", 200,
                           "text/html; charset=utf-8", body, utcnow())
        item = RawPagePipeline(crawler)._build(item, source)
        with pytest.raises(DropItem, match="produce failed"):
            asyncio.run(pipeline.process_item(item))
    finally:
        pipeline._close()
    assert crawler.stats.get_value("newsmon/errors") == 1
    assert crawler.stats.get_value("newsmon/produce_errors") == 1
    assert "Kafka produce failed for http://127.0.0.1/big.html" in crawler.stats.get_value("newsmon/error_samples")[0]
    assert state.lookup([item.raw.key]) == {}
