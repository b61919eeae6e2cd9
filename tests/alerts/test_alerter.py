"""The alerter through the real broker, Elasticsearch and an SMTP server on 127.0.0.1: campaigns
from the seed and fixture-site stories, one e-mail per new campaign per matching subscriber, and
nothing more on redelivery, restart or a second alerter."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from newsmon.schemas import Story, stable_id
from newsmon.settings import INDEX_CAMPAIGNS
from search.alerts.records import AlertRecords
from tests.alerts.conftest import produce_stories, run_alerter
from tests.alerts.corpus import administrations_of, fixture_stories, seed_stories

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def campaigns(es, settings) -> list[dict]:
    index = settings.index(INDEX_CAMPAIGNS)
    es.indices.refresh(index=index)
    return [h["_source"] for h in es.search(index=index, size=1000, query={"match_all": {}})["hits"]["hits"]]


def to(catcher, address: str) -> list:
    return [m for m in catcher.messages if address in m.rcpt_tos]


def test_seed_and_fixture_stories_mail_each_new_campaign_once(mail_settings, fast_config, catcher, es, subscribe,
                                                              seeds_dir):
    stories = seed_stories(seeds_dir) + fixture_stories()
    expected = administrations_of(stories)
    subscribe("all@example.org")
    subscribe("liaoning@example.org", regions=["辽宁省"])
    produce_stories(mail_settings, stories)

    alerter = run_alerter(mail_settings, fast_config)
    assert alerter.stats.consumed == len(stories) and alerter.stats.dead_lettered == 0

    found = campaigns(es, mail_settings)
    assert {(c["regions"][0]["adcode"] if c["regions"] else "national") for c in found} == expected
    assert len(found) == len(expected)          # one campaign per administration: no copies among them
    catcher.wait_for(len(expected) + 1, timeout=30)
    everything = to(catcher, "all@example.org")
    assert len(everything) == len(expected)
    assert len({m.message["X-Newsmon-Alert"] for m in everything}) == len(expected)
    assert [m.subject for m in to(catcher, "liaoning@example.org")] == [
        "新减负行动: 辽宁省铁岭市 · 微信工作群、政务APP、政务公众号"]

    tieling = next(m for m in everything if "铁岭" in m.subject)
    text, html = tieling.part("plain"), tieling.part("html")
    for shown in (text, html):
        assert "746个" in shown and "取消、合并微信工作群" in shown
        assert "http://127.0.0.1:8765/epaper/2025-03/12/content_1201.html" in shown
        assert "辽宁日报" in shown
        assert "http://127.0.0.1:5601/app/discover#/" in shown
    assert "共取消、合并不必要的微信工作群<strong>746</strong>个" in html
    assert "关于开展清理规范使用政务APP、微信工作群的通知" in text
    # a roundup names three administrations: each campaign links the same story
    assert sum("各地各部门精减工作群" in m.part("plain") for m in everything) == 3

    records = AlertRecords(es, mail_settings).history(limit=1000)
    assert len(records) == len(expected) + 1 and {r["status"] for r in records} == {"sent"}

    # the same stories again, a restarted alerter, and one that reads the topic from the start
    produce_stories(mail_settings, stories)
    run_alerter(mail_settings, fast_config, idle=2)
    replay = run_alerter(mail_settings, fast_config, idle=2, group=f"{mail_settings.namespace}-replay")
    assert replay.stats.consumed == 2 * len(stories)
    time.sleep(1)
    assert len(catcher.messages) == len(expected) + 1
    assert len(campaigns(es, mail_settings)) == len(expected)


def _story(seed: Story, **changes) -> Story:
    return seed.model_copy(update=changes, deep=True)


def test_copies_and_follow_ups_join_a_campaign_and_a_new_measure_after_the_lookback_starts_one(
        mail_settings, fast_config, catcher, es, subscribe, seeds_dir):
    tieling = next(s for s in seed_stories(seeds_dir) if "铁岭" in s.title)
    subscribe("analyst@example.org", regions=["铁岭市"])
    produce_stories(mail_settings, [tieling])
    run_alerter(mail_settings, fast_config, idle=2)
    assert len(catcher.wait_for(1)) == 1

    day = timedelta(days=1)
    copy = _story(tieling, id=stable_id("copy"), outlet="铁岭日报", url="http://127.0.0.1:8765/tieling/copy.html",
                  published_at=tieling.published_at + 2 * day)
    follow_up = _story(tieling, id=stable_id("follow-up"), outlet="铁岭新闻网", cluster_id=stable_id("other"),
                       title="铁岭市持续整治“指尖上的形式主义” 再清理工作群120个", measures=["work_groups"],
                       url="http://127.0.0.1:8765/tieling/follow-up.html", published_at=tieling.published_at + 90 * day,
                       figures=[])
    produce_stories(mail_settings, [copy, follow_up])
    run_alerter(mail_settings, fast_config, idle=2)
    time.sleep(1)
    assert len(catcher.messages) == 1
    [campaign] = campaigns(es, mail_settings)
    assert campaign["stories"] == [tieling.id, copy.id, follow_up.id]
    assert campaign["outlets"] == ["辽宁日报", "铁岭日报", "铁岭新闻网"]
    assert campaign["title"] == tieling.title

    # meetings in the same city, 200 days after the last story: a new campaign, a new e-mail;
    # and the same measures again after the lookback: a new campaign too
    meetings = _story(tieling, id=stable_id("meetings"), cluster_id=stable_id("meetings"), measures=["meetings_documents"],
                      title="铁岭精简会议文件 市级会议减少三成", figures=[],
                      published_at=follow_up.published_at + 200 * day)
    again = _story(tieling, id=stable_id("again"), cluster_id=stable_id("again"),
                   published_at=follow_up.published_at + 400 * day)
    produce_stories(mail_settings, [meetings, again])
    run_alerter(mail_settings, fast_config, idle=2)
    mails = catcher.wait_for(3)
    assert [m.subject for m in mails] == ["新减负行动: 辽宁省铁岭市 · 微信工作群、政务APP、政务公众号",
                                          "新减负行动: 辽宁省铁岭市 · 文山会海",
                                          "新减负行动: 辽宁省铁岭市 · 微信工作群、政务APP、政务公众号"]
    assert len(campaigns(es, mail_settings)) == 3


def test_two_alerter_processes_at_once_send_each_alert_once(mail_settings, fast_config, catcher, es, subscribe,
                                                           seeds_dir):
    tieling = next(s for s in seed_stories(seeds_dir) if "铁岭" in s.title)
    # two different first stories of one campaign (two outlets' copies): each process may see
    # either one first, and both see both (separate consumer groups: the worst case)
    copies = [_story(tieling, id=stable_id("outlet", str(i)), outlet=f"媒体{i}", cluster_id=None,
                     url=f"http://127.0.0.1:8765/copy/{i}.html") for i in range(6)]
    stories = copies + [s for s in fixture_stories() if s.relevant]
    expected = administrations_of(stories)
    subscribe("one@example.org")
    subscribe("two@example.org", mode="instant", measures=["work_groups", "gov_apps"])
    produce_stories(mail_settings, stories)

    env = os.environ | {"NEWSMON_NAMESPACE": mail_settings.namespace, "NEWSMON_SMTP_PORT": str(catcher.port),
                        "NEWSMON_SMTP_HOST": "127.0.0.1", "NEWSMON_ALERTS_TIMER_SECONDS": "0.2"}
    procs = [subprocess.Popen([sys.executable, "-m", "tests.alerts.alerter_process", f"group-{i}", "4"], cwd=REPO,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for i in range(2)]
    outputs = [p.communicate(timeout=180)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert all(f"consumed {len(stories)}" in out for out in outputs), outputs

    found = campaigns(es, mail_settings)
    assert len(found) == len(expected)
    [campaign] = [c for c in found if c["regions"] and c["regions"][0]["adcode"] == "211200"]
    assert sorted(campaign["stories"]) == sorted(c.id for c in copies)
    time.sleep(1)
    assert len(to(catcher, "one@example.org")) == len(expected)
    wanted = [c for c in found if {"work_groups", "gov_apps"} & set(c["measures"])]
    assert len(to(catcher, "two@example.org")) == len(wanted)
    ids = [m.message["X-Newsmon-Alert"] for m in catcher.messages]
    assert len(ids) == len(set(ids))
