"""Who gets what, and when: filters, free-text queries, daily digests, an SMTP outage, hostile
story text, and the admin's notice about a quiet source. Real broker, Elasticsearch, SMTP server."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from consumers.alerter import AlerterConsumer
from newsmon.schemas import Figure, stable_id, utcnow
from search.alerts.records import AlertRecords
from search.documents import build_document
from search.indices import ARTICLES, ensure_current
from tests.alerts.conftest import produce_stories, run_alerter, run_in_thread
from tests.alerts.corpus import fixture_stories, seed_stories
from tests.alerts.test_alerter import campaigns, to

pytestmark = pytest.mark.integration


class Clock:
    """Real time plus an offset the test moves forward (digest hours, backoff)."""

    def __init__(self):
        self.offset = timedelta()

    def __call__(self):
        return utcnow() + self.offset


def index_articles(es, settings, stories) -> None:
    """What the indexer does for these stories (the search package's own document builder)."""
    alias = ensure_current(es, settings, ARTICLES)
    for s in stories:
        es.index(index=alias, id=s.id, document=build_document(s))
    es.indices.refresh(index=alias)


def test_filters_queries_and_daily_digest(mail_settings, fast_config, catcher, es, subscribe, seeds_dir):
    stories = [s for s in seed_stories(seeds_dir) + fixture_stories() if s.relevant]
    index_articles(es, mail_settings, stories)
    subscribe("meetings-in-liaoning@example.org", regions=["辽宁省"], measures=["meetings_documents"])
    subscribe("hubei@example.org", regions=["湖北省"], mode="daily")
    subscribe("zombies@example.org", query="僵尸群")
    subscribe("paused@example.org")
    from search.alerts.subscriptions import SubscriptionStore
    SubscriptionStore(es, mail_settings).set_paused("paused@example.org", True)
    produce_stories(mail_settings, stories)
    clock = Clock()
    run_alerter(mail_settings, fast_config, idle=3, clock=clock)

    found = campaigns(es, mail_settings)
    zombie_places = {c["region_name"] for c in found
                     if any("僵尸群" in s.title + s.text for s in stories if s.id in c["stories"])}
    assert zombie_places == {"辽宁省铁岭市", "黑龙江省哈尔滨市道里区"}
    catcher.wait_for(len(zombie_places), timeout=20)
    time.sleep(1)
    assert sorted(m.subject.split(" · ")[0] for m in to(catcher, "zombies@example.org")) == sorted(
        f"新减负行动: {p}" for p in zombie_places)
    assert to(catcher, "meetings-in-liaoning@example.org") == []   # 铁岭 cut work groups, not meetings
    assert to(catcher, "paused@example.org") == []
    assert to(catcher, "hubei@example.org") == []                  # daily: not before the digest hour

    clock.offset = timedelta(days=1, minutes=1)
    run_alerter(mail_settings, fast_config, idle=2, clock=clock)
    catcher.wait_for(len(zombie_places) + 1)
    [digest] = to(catcher, "hubei@example.org")
    hubei = sorted(c["region_name"] for c in found if c["region_codes"] and c["region_codes"][0] == "420000")
    assert hubei == ["湖北省宜昌市", "湖北省鄂州市"]
    assert digest.subject.startswith("减负行动日报 ") and digest.subject.endswith(": 2 个新行动")
    for place in hubei:
        assert place in digest.part("plain") and place in digest.part("html")
    history = AlertRecords(es, mail_settings).history(email="hubei@example.org")
    assert [r["status"] for r in history] == ["sent", "sent"]
    assert len({r["digest_id"] for r in history}) == 1


def test_query_subscription_waits_for_the_indexer(mail_settings, fast_config, catcher, es, subscribe, seeds_dir):
    tieling = next(s for s in seed_stories(seeds_dir) if "铁岭" in s.title)
    subscribe("query@example.org", query="工作群 AND 清理")
    produce_stories(mail_settings, [tieling])
    alerter, thread = run_in_thread(mail_settings, fast_config)
    try:
        deadline = time.monotonic() + 30
        while not campaigns(es, mail_settings) and time.monotonic() < deadline:
            time.sleep(0.3)
        time.sleep(1.5)
        assert catcher.messages == []                 # not decided while the story is not searchable
        [campaign] = campaigns(es, mail_settings)
        assert campaign["status"] == "new"
        index_articles(es, mail_settings, [tieling])
        [mail] = catcher.wait_for(1, timeout=20)
        assert mail.rcpt_tos == ("query@example.org",)
    finally:
        alerter.stop()
        thread.join(30)
    assert campaigns(es, mail_settings)[0]["status"] == "active"


def test_smtp_down_alerts_stay_pending_and_go_out_once_it_is_back(mail_settings, fast_config, catcher, es,
                                                                   subscribe, seeds_dir):
    stories = [s for s in seed_stories(seeds_dir) if s.relevant and s.regions][:3]
    expected = {r.adcode for s in stories for r in s.regions}
    subscribe("analyst@example.org")
    catcher.stop()
    produce_stories(mail_settings, stories)
    run_alerter(mail_settings, fast_config, idle=2)
    records = AlertRecords(es, mail_settings)
    pending = records.history()
    assert len(pending) == len(expected)
    assert {r["status"] for r in pending} == {"pending"}
    assert all("unavailable" in r["last_error"] and r["attempts"] >= 1 for r in pending)

    catcher.start()
    run_alerter(mail_settings, fast_config, idle=4)
    time.sleep(1)
    assert len(catcher.messages) == len(expected)
    assert len({m.message["X-Newsmon-Alert"] for m in catcher.messages}) == len(expected)
    sent = records.history()
    assert {r["status"] for r in sent} == {"sent"}
    assert all(r["attempts"] >= 2 and r["last_error"] is None for r in sent)


def test_hostile_title_neither_adds_a_header_nor_live_html(mail_settings, fast_config, catcher, es, subscribe,
                                                           seeds_dir):
    tieling = next(s for s in seed_stories(seeds_dir) if "铁岭" in s.title)
    hostile = tieling.model_copy(update={
        "id": stable_id("hostile"),
        "title": "铁岭清理工作群\r\nBcc: victim@example.org\r\nX-Injected: yes\r\n\r\n<script>alert(1)</script>",
        "outlet": "辽宁日报\nCc: other@example.org",
        "url": "javascript:alert(document.cookie)",
        "figures": [Figure(what="<img src=x onerror=alert(1)>", value=746, unit="个",
                           text="微信工作群746个<b>加粗</b>", measure="work_groups")],
    })
    subscribe("analyst@example.org")
    produce_stories(mail_settings, [hostile])
    run_alerter(mail_settings, fast_config, idle=2)
    [mail] = catcher.wait_for(1)
    time.sleep(0.5)
    assert len(catcher.messages) == 1 and mail.rcpt_tos == ("analyst@example.org",)
    headers = {k.lower() for k in mail.message}
    assert not headers & {"bcc", "cc", "x-injected"}
    assert mail.message["To"] == "analyst@example.org"
    html = mail.part("html")
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html.lower() and "(无链接)" in html
    text = mail.part("plain")
    assert "铁岭清理工作群 Bcc: victim@example.org X-Injected: yes <script>alert(1)</script>" in text
    assert "\nBcc:" not in text


def test_quiet_source_tells_the_admin_once_per_quiet_streak(mail_settings, fast_config, catcher, es):
    from crawler.registry import SourceRegistry
    from crawler.source import CrawlResult, parse_source

    registry = SourceRegistry(mail_settings, es)
    registry.add(parse_source({"id": "bjrb-listing", "name": "滨江日报 本地新闻", "outlet": "滨江日报",
                               "region": "哈尔滨市", "type": "listing",
                               "start_urls": ["http://127.0.0.1:8765/news/"]}))
    registry.add(parse_source({"id": "busy", "name": "忙碌的信源", "outlet": "滨江日报", "region": "哈尔滨市",
                               "type": "listing", "start_urls": ["http://127.0.0.1:8765/busy/"]}))
    # the timers alone, called by the test at each crawl (no stories involved)
    alerter = AlerterConsumer(mail_settings, config=fast_config.model_copy(update={"quiet_cycles": 3}))
    start = utcnow()

    def crawl(source_id: str, cycle: int, published: int) -> None:
        t = start + timedelta(minutes=30 * cycle)
        registry.record_crawl(source_id, CrawlResult(status="ok", started_at=t, finished_at=t + timedelta(minutes=1),
                                                     pages=5, published=published))
        alerter.tick()
        alerter.tick()          # the same crawl seen again is not another cycle

    for cycle in range(1, 6):
        crawl("bjrb-listing", cycle, 0)
        crawl("busy", cycle, 4)
    [notice] = catcher.wait_for(1)
    time.sleep(0.5)
    assert len(catcher.messages) == 1 and notice.rcpt_tos == ("admin@example.org",)
    assert notice.subject == "[newsmon] 信源沉寂: 滨江日报 本地新闻 连续 3 次抓取没有新文章"
    crawl("bjrb-listing", 6, 2)                 # it published again: the streak ends
    for cycle in range(7, 10):
        crawl("bjrb-listing", cycle, 0)
    assert len(catcher.wait_for(2)) == 2
    notices = AlertRecords(es, mail_settings).history(email="admin@example.org")
    assert [r["status"] for r in notices] == ["sent", "sent"] and {r["source_id"] for r in notices} == {"bjrb-listing"}
