"""Story → document: both scripts, jieba words, region codes and coordinates, the lead figure, dates,
and the inverse used by migrations."""

from __future__ import annotations

from datetime import UTC, datetime

from newsmon.schemas import Story
from search.documents import (
    build_document,
    lead_figure,
    rebuild_document,
    region_codes,
    segment_for_index,
    story_from_source,
    traditional_variants,
)


def _story(**kw) -> Story:
    base = dict(id="s1", title="厦门同安区:精简微信工作群 为基层干部减负", text="同安区精简微信工作群890个,为基层干部减负。")
    return Story(**(base | kw))


def test_traditional_original_and_renderings_make_both_scripts_searchable():
    story = _story(title_original="廈門同安區:精簡微信工作群 為基層干部減負", script="traditional",
                   text_original="同安區精簡微信工作群890個,為基層干部減負。")
    doc = build_document(story)
    assert doc["title"] == story.title and doc["title_original"] == story.title_original
    assert doc["text_original"] == story.text_original
    # Taiwan and Hong Kong renderings of the Simplified text: 減負 and 幹部 as people type them
    assert any("減負" in t and "幹部" in t for t in doc["text_traditional"])
    assert all(t != story.text_original for t in doc["text_traditional"])


def test_simplified_story_keeps_no_redundant_original():
    doc = build_document(_story(title_original="厦门同安区:精简微信工作群 为基层干部减负"))
    assert "title_original" not in doc and "text_original" not in doc
    assert traditional_variants("为基层减负")[0] == "為基層減負"
    assert traditional_variants("APP 2019") == []


def test_words_are_jieba_tokens_lower_case_without_punctuation():
    assert segment_for_index("清理政务APP、微信工作群。") == "清理 政务app 微信工作群"
    doc = build_document(_story())
    assert "微信工作群" in doc["text_seg"].split() and "," not in doc["text_seg"]


def test_region_codes_cover_every_enclosing_division_and_fill_coordinates():
    story = _story(regions=[{"province": "湖南省", "city": "长沙市", "county": "岳麓区", "adcode": "430104"},
                            {"province": "重庆市", "city": None, "county": "江北区", "adcode": "500105"}])
    assert region_codes(story.regions) == ["430000", "430100", "430104", "500000", "500105"]
    doc = build_document(story)
    assert doc["region_codes"] == ["430000", "430100", "430104", "500000", "500105"]
    loc = doc["regions"][0]["location"]
    assert 27 < loc["lat"] < 29 and 112 < loc["lon"] < 113     # 岳麓区 from the gazetteer


def test_lead_figure_is_the_largest_count_never_a_percentage():
    story = _story(figures=[{"what": "减少比例", "value": 59, "unit": "%", "text": "59%"},
                            {"what": "合并、解散工作群", "value": 1170, "unit": "个", "text": "1170个"},
                            {"what": "保留工作群", "value": 614, "unit": "个", "text": "614个"}])
    assert lead_figure(story.figures).value == 1170
    doc = build_document(story)
    assert doc["lead_figure"]["what"] == "合并、解散工作群" and doc["figure_count"] == 3
    assert lead_figure(_story(figures=[{"what": "比例", "value": 27.5, "unit": "%", "text": "27.5%"}]).figures) is None


def test_timestamp_prefers_published_then_fetched_and_dates_without_zone_are_beijing():
    fetched = datetime(2020, 1, 2, 3, 4, tzinfo=UTC)
    doc = build_document(_story(published_at=datetime(2019, 4, 8, 9, 32), fetched_at=fetched))
    assert doc["@timestamp"] == "2019-04-08T09:32:00+08:00" and doc["timestamp_source"] == "published"
    doc = build_document(_story(fetched_at=fetched))
    assert doc["@timestamp"] == fetched.isoformat() and doc["timestamp_source"] == "fetched"
    indexed = datetime(2021, 5, 6, tzinfo=UTC)
    doc = build_document(_story(), indexed_at=indexed)
    assert doc["@timestamp"] == indexed.isoformat() and doc["timestamp_source"] == "indexed"


def test_source_round_trip_rebuilds_the_same_document():
    story = _story(outlet="厦门日报", measures=["work_groups", "check_ins"], published_at=datetime(2019, 4, 8),
                   regions=[{"province": "福建省", "city": "厦门市", "county": "同安区", "adcode": "350212"}],
                   figures=[{"what": "精简微信工作群", "value": 890, "unit": "个", "text": "890个",
                             "measure": "work_groups"}],
                   policy_documents=["关于解决形式主义突出问题为基层减负的通知"], keywords=["微信工作群"], cluster_id="c1")
    doc = build_document(story, indexed_at=datetime(2022, 1, 1, tzinfo=UTC))
    # what Elasticsearch stores: _source without the excluded derived fields
    stored = {k: v for k, v in doc.items() if not k.endswith(("_seg", "_traditional"))}
    assert story_from_source(stored).model_dump() == story_from_source(doc).model_dump()
    assert rebuild_document(stored) == doc
