"""Crawler pieces without a broker: canonical URLs, charset detection, source validation,
feed/sitemap parsing, retry timing, and that the committed fixture site is current."""

from __future__ import annotations

import filecmp
import json
from datetime import date
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request, XmlResponse

from crawler.canonical import canonical_key, canonical_url
from crawler.demo_site import DEFAULT_SITE_DIR, fixture_sources
from crawler.encoding import decode_body
from crawler.middlewares import BackoffRetryMiddleware
from crawler.source import SourceError, dump_sources_yaml, load_sources_yaml, parse_duration, parse_source
from crawler.spiders.feeds import FeedSpider

WWW = DEFAULT_SITE_DIR / "www"
MANIFEST = json.loads((DEFAULT_SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
BY_ID = {a["id"]: a for a in MANIFEST["articles"]}


@pytest.mark.parametrize(("raw", "canonical"), [
    ("HTTP://WWW.Paper.CN:80/a/b.html?b=2&utm_source=wx&a=1#top", "http://www.paper.cn/a/b.html?a=1&b=2"),
    ("https://paper.cn.:443/x?spm=a.b.c&from=timeline&isappinstalled=0", "https://paper.cn/x"),
    ("http://127.0.0.1:8765/content/1.html#comments", "http://127.0.0.1:8765/content/1.html"),
    ("http://paper.cn/新闻/1.html?id=5", "http://paper.cn/%E6%96%B0%E9%97%BB/1.html?id=5"),
])
def test_canonical_url(raw, canonical):
    assert canonical_url(raw) == canonical


def test_tracking_variants_share_one_key():
    base = "http://www.lnd.com.cn/content/2025-03/12/content_1.html"
    assert len({canonical_key(base), canonical_key(base + "?utm_medium=feed"), canonical_key(base + "#c"),
                canonical_key(base.replace("www.lnd", "WWW.LND"))}) == 1
    assert canonical_key(base) != canonical_key(base + "?page=2")


def test_gbk_page_without_any_declaration_is_detected():
    body = (WWW / BY_ID["seed-001"]["path"].lstrip("/")).read_bytes()
    decoded = decode_body(body, "text/html")
    assert decoded.declared is None and decoded.detected in ("gbk", "gb18030", "gb2312")
    assert BY_ID["seed-001"]["title"] in decoded.text


def test_big5_page_with_a_wrong_declaration_is_detected():
    body = (WWW / BY_ID["seed-003"]["path"].lstrip("/")).read_bytes()
    assert body.decode("gb18030", errors="strict")  # the trap: the wrong charset decodes "cleanly"
    decoded = decode_body(body, "text/html")
    assert decoded.declared in ("gb2312", "gb18030") and decoded.detected in ("big5", "cp950", "big5hkscs")
    assert "廈門同安區:精簡微信工作群 為基層干部減負" in decoded.text


def test_a_correct_declaration_wins_and_binary_never_fails():
    text = "为基层减负:精简微信工作群"
    assert decode_body(text.encode("gb18030"), "text/html; charset=gb18030").text == text
    assert decode_body(text.encode("utf-8"), None).detected == "utf-8"
    assert isinstance(decode_body(bytes(range(256)) * 40, "application/octet-stream").text, str)


def _valid(**over):
    doc = {"id": "xmrb", "name": "厦门日报", "outlet": "厦门日报", "region": "厦门市", "type": "listing",
           "start_urls": ["https://www.xmnn.cn/xmrb/"]}
    return doc | over


@pytest.mark.parametrize(("change", "message"), [
    ({"start_urls": ["ftp://www.xmnn.cn/"]}, "must be http:// or https://"),
    ({"start_urls": ["http://"]}, "has no host"),
    ({"region": "火星市"}, "unknown region"),
    ({"region": None}, "region: required"),
    ({"id": "Xmrb News"}, "must be a slug"),
    ({"link_rules": {"articles": {"allow": ["content_(\\d+"]}}}, "bad regex"),
    ({"link_rules": {"articles": {"css": ["div[["]}}}, "bad CSS selector"),
    ({"extraction_hints": {"body_xpath": "//div["}}, "bad XPath"),
    ({"type": "epaper"}, "needs a date field"),
    ({"type": "magazine"}, "type"),
    ({"interval": "soon"}, "not a duration"),
    ({"encoding": "klingon"}, "unknown encoding"),
    ({"colour": "red"}, "unknown field"),
])
def test_source_validation_gives_one_line(change, message):
    with pytest.raises(SourceError) as err:
        parse_source(_valid(**change))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_source_defaults_region_and_epaper_dates():
    s = parse_source(_valid(type="epaper", start_urls=["https://epaper.xmnn.cn/xmrb/{date:%Y%m%d}/node_1.html"],
                            interval="2h", epaper_days=2))
    assert s.region.adcode == "350200" and s.allowed_domains == ["epaper.xmnn.cn"] and s.interval == 7200
    assert s.start_pages(date(2025, 3, 1), 5) == ["https://epaper.xmnn.cn/xmrb/20250301/node_1.html",
                                                  "https://epaper.xmnn.cn/xmrb/20250228/node_1.html"]
    assert parse_duration("15m") == 900 and parse_duration(90) == 90


def test_yaml_round_trip_and_duplicate_ids():
    sources = fixture_sources()
    again = load_sources_yaml(dump_sources_yaml(sources))
    assert [s.model_dump(exclude={"added_at", "updated_at"}) for s in again] == \
           [s.model_dump(exclude={"added_at", "updated_at"}) for s in sources]
    with pytest.raises(SourceError, match="appears twice"):
        load_sources_yaml(dump_sources_yaml([sources[0], sources[0]]))


def test_default_source_list_is_valid_and_marked_unverified():
    text = (Path(__file__).resolve().parents[2] / "crawler" / "sources" / "default.yaml").read_text(encoding="utf-8")
    sources = load_sources_yaml(text)
    assert len(sources) >= 10 and all(not s.verified for s in sources)
    outlets = {s.outlet for s in sources}
    for outlet in ("辽宁日报", "内蒙古日报", "厦门日报", "湖南日报", "浙江日报", "人民网", "新华网"):
        assert outlet in outlets
    assert {s.type for s in sources} == {"listing", "epaper", "rss", "sitemap"}


def test_feed_entries_rss_and_atom():
    rss = (WWW / "rss/local.xml").read_bytes()
    atom = (WWW / "atom/news.xml").read_bytes()
    rss_links = FeedSpider.entries(XmlResponse("http://127.0.0.1:8765/rss/local.xml", body=rss))
    atom_links = FeedSpider.entries(XmlResponse("http://127.0.0.1:8765/atom/news.xml", body=atom))
    assert len(rss_links) == sum("fixture-rss" in a["sources"] for a in MANIFEST["articles"])
    assert len(atom_links) == sum("fixture-atom" in a["sources"] for a in MANIFEST["articles"])
    assert all("/content/" in u for u in rss_links + atom_links)


def test_retry_after_header_is_read():
    def resp(value):
        return HtmlResponse("http://x.cn/", status=429, headers={"Retry-After": value}, request=Request("http://x.cn/"))

    assert BackoffRetryMiddleware._retry_after(resp("3")) == 3.0
    assert BackoffRetryMiddleware._retry_after(resp("Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0
    assert BackoffRetryMiddleware._retry_after(resp("soon")) is None


def test_committed_fixture_site_is_current(seeds_dir, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_site", DEFAULT_SITE_DIR / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    manifest = module.build(Path(seeds_dir), tmp_path)
    assert manifest == MANIFEST
    cmp = filecmp.dircmp(tmp_path / "www", WWW)
    stack = [cmp]
    while stack:
        c = stack.pop()
        assert not (c.left_only or c.right_only or c.diff_files), (c.left_only, c.right_only, c.diff_files)
        stack.extend(c.subdirs.values())
    relevant = [a for a in manifest["articles"] if a["relevant"] and not a["seed"]]
    assert len(relevant) >= 6 and len({r for a in relevant for r in a["regions"]}) >= 4


def test_oversized_page_is_truncated_and_flagged():
    from scrapy.utils.test import get_crawler

    from crawler.items import ArticlePage
    from crawler.pipelines import RawPagePipeline
    from newsmon.schemas import utcnow

    crawler = get_crawler(settings_dict={"NEWSMON_MAX_PAGE_BYTES": 4096})
    pipeline = RawPagePipeline(crawler)
    body = ("<html><body>" + "为基层减负" * 2000 + "</body></html>").encode("utf-8")
    item = ArticlePage("s", "http://x.cn/a.html?utm_source=x", "http://x.cn/a.html", 200, "text/html; charset=utf-8",
                       body, utcnow())
    raw = pipeline._build(item, fixture_sources()[0]).raw
    assert raw.truncated and len(raw.body.encode("utf-8")) <= 4096 and raw.body.startswith("<html><body>为基层减负")
    assert raw.canonical_url == "http://x.cn/a.html" and raw.outlet == "滨江日报" and raw.extraction_hints
    import hashlib

    assert raw.sha256 == hashlib.sha256(body).hexdigest()  # of the bytes as downloaded


def test_sources_sharing_a_site_are_crawled_in_turn():
    from crawler.process import same_site_groups

    sources = fixture_sources()
    other = sources[0].model_copy(update={"id": "other", "allowed_domains": ["www.lnd.com.cn"]})
    www = sources[1].model_copy(update={"id": "lnd2", "allowed_domains": ["lnd.com.cn", "example.org"]})
    groups = same_site_groups([*sources, other, www])
    assert [[s.id for s in g] for g in groups] == [[s.id for s in sources], ["other", "lnd2"]]
