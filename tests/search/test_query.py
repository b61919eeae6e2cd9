"""The CLI query language and the Elasticsearch request it becomes (pure: no Elasticsearch here;
the integration tests run these requests against the real node)."""

from __future__ import annotations

from datetime import date

import pytest

from newsmon.gazetteer import resolve_region
from search.query import QueryError, SearchRequest, build_body, build_query, parse_day, parse_query


def test_terms_phrases_or_and_exclusions():
    parsed = parse_query('微信工作群 "指尖上的 形式主义" 政务APP OR 小程序 -教师')
    assert parsed.groups == [["微信工作群"], ["指尖上的 形式主义"], ["政务APP", "小程序"]]
    assert parsed.excluded == ["教师"]


def test_traditional_terms_become_simplified():
    assert parse_query("減負 為基層干部").groups == [["减负"], ["为基层干部"]]


@pytest.mark.parametrize("bad", ['"unclosed', "减负 OR"])
def test_malformed_queries_are_one_line_errors(bad):
    with pytest.raises(QueryError):
        parse_query(bad)


def test_days_accept_year_month_and_day_with_inclusive_ends():
    assert parse_day("2019") == date(2019, 1, 1) and parse_day("2019", end=True) == date(2019, 12, 31)
    assert parse_day("2020-02", end=True) == date(2020, 2, 29)
    assert parse_day("2019-12", end=True) == date(2019, 12, 31)
    assert parse_day("2019-04-08") == date(2019, 4, 8)
    for bad in ("2019-13-01", "yesterday", "2019/04/08", "2019-02-30"):
        with pytest.raises(QueryError, match="YYYY-MM-DD"):
            parse_day(bad, option="--since")


def test_request_validation():
    with pytest.raises(QueryError, match="unknown measure"):
        SearchRequest(measure="wechat")
    with pytest.raises(QueryError, match="after"):
        SearchRequest(since=date(2020, 1, 2), until=date(2020, 1, 1))


def test_filters_relevant_region_measure_source_and_dates():
    req = SearchRequest(query="减负", region=resolve_region("铁岭市"), measure="work_groups", source_id="lnrb",
                        since=date(2019, 1, 1), until=date(2019, 12, 31))
    filters = build_query(req)["bool"]["filter"]
    assert {"term": {"relevant": True}} in filters
    assert {"term": {"region_codes": "211200"}} in filters
    assert {"term": {"measures": "work_groups"}} in filters
    assert {"term": {"source_id": "lnrb"}} in filters
    rng = next(f["range"]["@timestamp"] for f in filters if "range" in f)
    assert rng["gte"] == "2019-01-01" and rng["lte"] == "2019-12-31||/d" and rng["time_zone"] == "+08:00"
    assert {"term": {"relevant": True}} not in build_query(SearchRequest(all_stories=True))["bool"]["filter"]


def test_phrase_mode_matches_all_text_and_word_mode_the_jieba_fields():
    phrase = build_query(SearchRequest(query="微信工作群"))["bool"]["must"][0]["bool"]["should"][0]
    assert phrase["bool"]["must"] == [{"match_phrase": {"all_text": "微信工作群"}}]
    words = build_query(SearchRequest(query="微信工作群", words=True))["bool"]["must"][0]["bool"]["should"][0]
    assert words["multi_match"]["fields"] == ["title_seg^2", "text_seg"] and words["multi_match"]["type"] == "phrase"


def test_body_sorts_by_relevance_with_words_else_by_date_and_asks_for_facets():
    body = build_body(SearchRequest(query="减负"))
    assert body["sort"][0] == "_score" and set(body["aggs"]) == {"province", "measure", "month"}
    assert build_body(SearchRequest())["sort"][0] == {"@timestamp": "desc"}
    assert build_body(SearchRequest(query="减负", sort="date"))["sort"][0] == {"@timestamp": "desc"}
