"""`newsmon demo`, the README's main command, as a real process: twice in a namespace of its own.

The expected numbers come from the fixture site's manifest: every article a fixture source
reaches is published once, every burden-reduction article is indexed as relevant, and the
subscriber gets exactly one e-mail per campaign; the second run publishes nothing, sends nothing
and reports the same totals.
"""

from __future__ import annotations

import json

import pytest

from newsmon.mailcatcher import free_port
from tests.run.conftest import article_of, cli_env, crawlable_articles, indexed_stories, newsmon

pytestmark = pytest.mark.integration


def _demo(env: dict) -> dict:
    out = newsmon("demo", "--json", env=env, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return json.loads(out.stdout)


def test_demo_twice_same_numbers_one_email_per_campaign(fresh_settings, manifest, tmp_path):
    env = cli_env(fresh_settings, tmp_path, NEWSMON_DEMO_SITE_PORT=str(free_port()),
                  NEWSMON_SMTP_PORT=str(free_port()))
    first = _demo(env)
    expected = crawlable_articles(manifest)
    assert first["run_reason"] == "idle" and first["lag_left"] == 0
    assert first["articles_published"] == first["published_this_run"] == len(expected)
    assert {s["id"] for s in first["sources"]} == {"fixture-listing", "fixture-epaper", "fixture-rss",
                                                    "fixture-atom", "fixture-sitemap"}

    stories = indexed_stories(fresh_settings)
    assert first["stories"] == len(stories)
    relevant_articles = {a["id"] for a in expected if a["relevant"]}
    indexed_relevant = {article_of(s["url"], manifest) for s in stories if s["relevant"]}
    assert relevant_articles <= indexed_relevant, relevant_articles - indexed_relevant
    assert first["relevant"] == sum(s["relevant"] for s in stories)

    subjects = [m["subject"] for m in first["emails"]]
    assert first["campaigns"] > 0
    assert len(subjects) == first["emails_this_run"] == first["campaigns"], subjects
    assert len(set(subjects)) == len(subjects), "an e-mail went out twice"
    assert all(m["to"] == "analyst@example.org" for m in first["emails"])
    searches = {s["query"]: s for s in first["searches"]}
    assert searches["微信工作群"]["total"] > 0 and searches["減負"]["total"] > 0
    assert first["facets"]["province"], "the dashboard facets are empty"

    second = _demo(env)
    assert second["run_reason"] == "idle"
    assert second["published_this_run"] == 0 and second["emails_this_run"] == 0
    for key in ("articles_published", "stories", "relevant", "campaigns", "dead_letters"):
        assert second[key] == first[key], key
    assert [m["subject"] for m in second["emails"]] == subjects
    print(f"\n[demo] first {first['seconds']:.0f}s, second {second['seconds']:.0f}s: "
          f"{first['articles_published']} pages, {first['stories']} stories, {first['relevant']} relevant, "
          f"{first['campaigns']} campaigns, {len(subjects)} e-mails")
