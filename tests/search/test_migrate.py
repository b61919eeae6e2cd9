"""`newsmon index init|status|migrate` against the real node: an index written by an older release
(mapping v0, no jieba fields) is moved to the current mapping while searches keep answering and
an indexer waiting for the migration writes as soon as the alias has moved."""

from __future__ import annotations

import json
import threading
import time

import pytest

from consumers.indexer import IndexerConsumer
from newsmon.es import make_es
from newsmon.settings import INDEX_ARTICLES
from search.bulk import BulkSink
from search.documents import build_document
from search.indices import ARTICLES, alias_targets, mapping_version, physical_name
from search.mappings import articles_mappings, articles_settings
from search.query import SearchRequest, search_stories
from tests.search.helpers import cli, cli_json, delete_namespace_indices, own_namespace, produce_stories
from tests.search.seed_stories import load_seed_stories

pytestmark = pytest.mark.integration

_V0_DROPPED = ("title_seg", "text_seg")


def _v0_mappings() -> dict:
    """What an older release created: the same index without the jieba word fields."""
    m = articles_mappings()
    m["_meta"] = {"mapping_version": 0}
    m["_source"] = {"excludes": ["title_traditional", "text_traditional"]}
    for f in _V0_DROPPED:
        del m["properties"][f]
    return m


@pytest.fixture
def old_release(settings, seeds_dir):
    """A namespace whose alias points at a v0 index holding the seed stories (no template yet, as
    before the upgrade)."""
    s = own_namespace(settings, "mig")
    es = make_es(s)
    alias = s.index(INDEX_ARTICLES)
    old = physical_name(alias, 0, 1)
    es.indices.create(index=old, settings={"index": articles_settings()}, mappings=_v0_mappings(),
                      aliases={alias: {"is_write_index": True}})
    stories = load_seed_stories(seeds_dir)
    sink = BulkSink(es, alias)
    for st in stories[:-3]:
        doc = {k: v for k, v in build_document(st.story).items() if k not in _V0_DROPPED}
        sink.add(st.story.id, doc)
    assert not sink.flush().rejected
    es.indices.refresh(index=alias)
    yield s, stories, old
    delete_namespace_indices(s)


def test_migrate_moves_to_the_new_mapping_while_searches_keep_answering(old_release):
    s, stories, old = old_release
    es = make_es(s)
    alias = s.index(INDEX_ARTICLES)
    status = cli(s, "index", "status", "--index", "articles", "--json")
    assert status.returncode == 1
    assert any("run `newsmon index migrate`" in p for p in json.loads(status.stdout)[0]["problems"])
    init = json.loads(cli(s, "index", "init", "--json").stdout)       # the upgrade's new templates
    assert init[0]["action"] == "needs migration" and init[0]["index"] == old
    assert cli_json(s, "search", "工作群", "--words")["total"] == 0   # v0 has no word fields

    # The last three stories arrive while the index is still v0: the indexer must wait, not write
    # documents the v0 mapping would reject or store without their word fields.
    produce_stories(s, [st.story for st in stories[-3:]])
    indexer = IndexerConsumer(s)
    indexer_thread = threading.Thread(target=indexer.run, kwargs={"max_idle_seconds": 6})
    indexer_thread.start()

    answers: list[int] = []
    failures: list[str] = []
    stop = threading.Event()

    def keep_searching() -> None:
        while not stop.is_set():
            try:
                answers.append(search_stories(es, alias, SearchRequest(query="减负")).total)
            except Exception as exc:  # any failure during the switch is what this test is about
                failures.append(repr(exc))
            time.sleep(0.02)

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    time.sleep(3)
    assert indexer.indexed == 0 and indexer.stats.retries >= 1        # waiting for the migration
    migrated = cli(s, "index", "migrate", "--index", "articles")
    time.sleep(0.5)
    stop.set()
    searcher.join(timeout=30)
    indexer_thread.join(timeout=120)

    assert migrated.returncode == 0, migrated.stderr
    new = physical_name(alias, ARTICLES.version, 2)
    assert f"{old} → {new}" in migrated.stdout
    assert failures == [] and len(answers) > 10 and set(answers) == {4}  # every search answered, correctly
    assert alias_targets(es, alias) == {new: True} and es.indices.exists(index=old)
    assert mapping_version(es, new) == ARTICLES.version
    assert indexer.indexed == 3                                     # written as soon as the alias moved
    es.indices.refresh(index=alias)
    assert es.count(index=alias)["count"] == len(stories)
    # documents were rebuilt for the new mapping: the word fields now answer
    assert cli_json(s, "search", "工作群", "--words")["total"] == 3
    assert cli(s, "index", "status").returncode == 0


def test_migrate_is_a_no_op_when_current_and_force_rebuilds_and_deletes_the_old_index(old_release):
    s, stories, old = old_release
    es = make_es(s)
    alias = s.index(INDEX_ARTICLES)
    assert cli(s, "index", "migrate").returncode == 0
    again = cli(s, "index", "migrate")
    assert again.returncode == 0 and "nothing to do" in again.stdout
    forced = cli(s, "index", "migrate", "--force", "--delete-old")
    assert forced.returncode == 0, forced.stderr
    second, third = physical_name(alias, ARTICLES.version, 2), physical_name(alias, ARTICLES.version, 3)
    assert alias_targets(es, alias) == {third: True}
    assert not es.indices.exists(index=second) and es.indices.exists(index=old)
    assert es.count(index=alias)["count"] == len(stories) - 3


def test_init_is_idempotent_and_status_reports_counts_and_versions(settings):
    s = own_namespace(settings, "init")
    try:
        first = json.loads(cli(s, "index", "init", "--json").stdout)
        second = json.loads(cli(s, "index", "init", "--json").stdout)
        assert [r["action"] for r in first] == ["created", "created"]
        assert [r["template"] for r in first] == ["created", "created"]
        assert [r["action"] for r in second] == ["exists", "exists"]
        assert [r["template"] for r in second] == ["unchanged", "unchanged"]
        assert [r["index"] for r in first] == [r["index"] for r in second]
        status = json.loads(cli(s, "index", "status", "--json").stdout)
        assert [st["alias"] for st in status] == [s.index("newsmon-articles"), s.index("newsmon-campaigns")]
        assert all(st["ok"] and st["indices"][0]["docs"] == 0 and st["indices"][0]["mapping_version"] == 1
                   for st in status)
    finally:
        delete_namespace_indices(s)
