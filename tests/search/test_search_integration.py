"""Seed stories → real broker → real indexer consumer → real Elasticsearch, then searched the way
analysts search: `newsmon search` (a subprocess, as typed in a terminal) and the plain
query_string / KQL queries Kibana sends."""

from __future__ import annotations

import pytest

from newsmon.es import make_es
from newsmon.settings import INDEX_ARTICLES
from search.query import SearchRequest, search_stories
from tests.search.helpers import cli, cli_json

pytestmark = pytest.mark.integration

TIELING, COMMENTARY, PEOPLE, HULUNBUIR, TONGAN, XINHUA = "000-0", "000-1", "001-0", "002-0", "003-0", "004-0"

CLI_CASES = [
    (["微信工作群"], {TIELING, COMMENTARY, PEOPLE, TONGAN}),
    (["减负"], {TIELING, HULUNBUIR, TONGAN, XINHUA}),               # 同安区 is written 減負
    (["減負"], {TIELING, HULUNBUIR, TONGAN, XINHUA}),               # Traditional query, Simplified stories
    (["指尖上的形式主义"], {TIELING, COMMENTARY, TONGAN}),
    (['"指尖上的形式主义" -铁岭'], {COMMENTARY, TONGAN}),
    (["工作群", "--words"], {COMMENTARY, PEOPLE, TONGAN}),          # 000-0 only has the word 微信工作群
    (["--region", "辽宁省"], {TIELING}),
    (["--region", "铁岭市"], {TIELING}),
    (["--region", "211200"], {TIELING}),
    (["--region", "湖南省"], {PEOPLE}),
    (["--region", "重庆市"], {XINHUA}),
    (["微信工作群", "--region", "福建省"], {TONGAN}),
    (["--measure", "task_forces"], {HULUNBUIR}),
    (["--measure", "work_groups"], {TIELING, COMMENTARY, PEOPLE, TONGAN}),
    (["--measure", "工作专班"], {HULUNBUIR}),
    (["--since", "2019-01-01", "--until", "2019-12-31"], {TIELING, COMMENTARY, TONGAN}),
    (["--since", "2020-06", "--until", "2020-07"], {PEOPLE, HULUNBUIR}),
    (["减负", "--until", "2019"], {TIELING, TONGAN}),
    (["--source", "nmgrb-epaper"], {HULUNBUIR}),
    (["轴承"], set()),                                            # only a not-relevant story has it
    (["轴承", "--all-stories"], {"000-5"}),
]


@pytest.mark.parametrize(("args", "expected"), CLI_CASES, ids=[" ".join(a) for a, _ in CLI_CASES])
def test_cli_search_returns_exactly_the_expected_stories(indexed_seeds, args, expected):
    result = cli_json(indexed_seeds.settings, "search", *args, "--limit", "100")
    found = indexed_seeds.keys(h["id"] for h in result["hits"])
    assert found == expected
    assert result["total"] == len(expected)


def test_cli_table_shows_date_region_outlet_title_snippet_total_and_facets(indexed_seeds):
    out = cli(indexed_seeds.settings, "search", "微信工作群", "--region", "福建省")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for shown in ("2019-04-08", "同安区", "东南网", "厦门同安区", "1 relevant stories match", "by province",
                  "福建省", "by measure", "work_groups", "by month", "2019-04"):
        assert shown in text, shown


def test_json_has_highlighted_snippets_and_facets(indexed_seeds):
    result = cli_json(indexed_seeds.settings, "search", "减负")
    tongan = next(h for h in result["hits"] if indexed_seeds.key_of(h["id"]) == TONGAN)
    assert "<em>减负</em>" in tongan["snippet"]
    assert tongan["regions"][0]["adcode"] == "350212" and tongan["lead_figure"]["value"] == 890
    facets = {name: {b["key"]: b["count"] for b in buckets} for name, buckets in result["facets"].items()}
    assert facets["province"]["辽宁省"] == 1 and facets["province"]["福建省"] == 1
    assert facets["measure"]["inspections"] == 2
    assert facets["month"] == {"2019-04": 1, "2019-11": 1, "2020-07": 1, "2021-01": 1}


@pytest.mark.parametrize("args", [
    ["x", "--since", "2019-13-01"], ["x", "--until", "soon"], ["x", "--region", "火星"],
    ["x", "--region", "999999"], ["x", "--measure", "wechat"], ["x", "--since", "2020", "--until", "2019"],
    ["x", "--sort", "random"], ['"unclosed'],
], ids=lambda a: " ".join(a))
def test_bad_input_is_a_one_line_error(indexed_seeds, args):
    out = cli(indexed_seeds.settings, "search", *args)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), out.stderr


# What Kibana sends: Lucene syntax becomes query_string (with the AND default that `newsmon kibana
# import` sets), KQL becomes multi_match (phrase when quoted) over index.query.default_field.
KIBANA_CASES = [
    ({"query_string": {"query": "微信工作群", "default_operator": "AND"}}, "微信工作群"),
    ({"query_string": {"query": '"微信工作群"'}}, "微信工作群"),
    ({"query_string": {"query": "减负", "default_operator": "AND"}}, "减负"),
    ({"query_string": {"query": "減負", "default_operator": "AND"}}, "減負"),
    ({"query_string": {"query": 'text:"指尖上的形式主义"'}}, "指尖上的形式主义"),
    ({"query_string": {"query": '"指尖上的形式主义" AND NOT 铁岭', "default_operator": "AND"}},
     '"指尖上的形式主义" -铁岭'),
    ({"multi_match": {"query": "减负", "type": "best_fields", "lenient": True}}, "减负"),
    ({"multi_match": {"query": "減負", "type": "best_fields", "lenient": True}}, "減負"),
    ({"multi_match": {"query": "微信工作群", "type": "phrase", "lenient": True}}, "微信工作群"),
]


@pytest.mark.parametrize(("kibana_query", "cli_query"), KIBANA_CASES, ids=[c for _, c in KIBANA_CASES])
def test_kibana_queries_find_the_same_stories_as_the_cli(indexed_seeds, kibana_query, cli_query):
    s = indexed_seeds.settings
    es = make_es(s)
    alias = s.index(INDEX_ARTICLES)
    kibana = es.search(index=alias, query=kibana_query, size=100)["hits"]["hits"]
    ours = search_stories(es, alias, SearchRequest(query=cli_query, all_stories=True, limit=100))
    assert indexed_seeds.keys(h["_id"] for h in kibana) == indexed_seeds.keys(h.id for h in ours.hits)
    assert ours.total > 0


def test_kibana_filters_on_region_measure_and_date_fields(indexed_seeds):
    es = make_es(indexed_seeds.settings)
    alias = indexed_seeds.settings.index(INDEX_ARTICLES)

    def kibana(q: str) -> set[str]:
        hits = es.search(index=alias, query={"query_string": {"query": q, "default_operator": "AND"}}, size=100)
        return indexed_seeds.keys(h["_id"] for h in hits["hits"]["hits"])

    assert kibana("regions.province:辽宁省") == {TIELING}
    assert kibana("region_codes:211200 AND relevant:true") == {TIELING}
    assert kibana("measures:task_forces") == {HULUNBUIR}
    assert kibana("measure_labels:工作专班") == {HULUNBUIR}
    assert kibana("outlet:辽宁日报 AND relevant:true") == {TIELING, COMMENTARY}
    assert kibana("@timestamp:[2019-01-01 TO 2019-12-31] AND relevant:true") == {TIELING, COMMENTARY, TONGAN}
    assert kibana("lead_figure.value:>=1000") == {PEOPLE}
