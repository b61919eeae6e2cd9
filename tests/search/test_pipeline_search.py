"""The whole path: every article page of the fixture site (tests/fixtures/site, with the seed pages in
their real encodings) as raw pages → real broker → real processor → real broker → real indexer →
Elasticsearch, then searched with the CLI. Expectations come from the site's manifest and the
page texts (which articles carry a term), not from what the processor happened to output."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest

from consumers.processor import ProcessorConsumer
from newsmon.kafka import dumps, ensure_topics, make_producer
from newsmon.schemas import RawPage
from newsmon.settings import TOPIC_RAW_PAGES
from search.documents import CHINA_TZ
from tests.search.helpers import cli_json, delete_namespace_indices, own_namespace, run_indexer

pytestmark = pytest.mark.integration

SITE = Path(__file__).resolve().parents[1] / "fixtures" / "site"
TIELING_TITLE = "集中清理规范微信工作群、政务APP 铁岭从“指尖”入手为基层干部减负"
COMMENTARY_TITLE = "破除“指尖上的形式主义”"


def _raw_page(base: str, article: dict) -> RawPage:
    raw = (SITE / "www" / article["path"].lstrip("/")).read_bytes()
    url = base + article["path"]
    return RawPage(url=url, final_url=url, canonical_url=url, source_id=(article["sources"] or ["fixture-site"])[0],
                   fetched_at=datetime.fromisoformat(article["date"]).replace(hour=9, tzinfo=CHINA_TZ),
                   status=200, content_type="text/html", detected_encoding=article["encoding"],
                   body=raw.decode(article["encoding"]), sha256=hashlib.sha256(raw).hexdigest(),
                   outlet=article["outlet"])


@pytest.fixture(scope="module")
def site_index(settings):
    if not (SITE / "manifest.json").exists():
        pytest.skip("fixture site not built")
    manifest = json.loads((SITE / "manifest.json").read_text(encoding="utf-8"))
    s = own_namespace(settings, "site")
    ensure_topics(s)
    producer = make_producer(s)
    pages = [_raw_page(manifest["base_url"], a) for a in manifest["articles"]]
    for page in pages:
        producer.send(s.topic(TOPIC_RAW_PAGES), key=page.key.encode(), value=dumps(page.model_dump(mode="json"))
                      ).get(timeout=60)
    producer.close()
    processed = ProcessorConsumer(s).run(max_idle_seconds=6)
    assert processed.consumed == len(pages)
    run_indexer(s)
    by_url = {manifest["base_url"] + a["path"]: a["id"] for a in manifest["articles"]}
    yield s, by_url
    delete_namespace_indices(s)


ALL_WITH_JIANFU = {"yanan-observatory", "seed-003", "nanhai-meetings", "u-tax-relief", "e-archive", "seed-004",
                   "seed-002", "seed-000"}
SITE_CASES = [
    (["微信工作群"], {"seed-003", "seed-001", "wujiang-apps", "yichang-checkins", "seed-000", "e-harbin-apps"}),
    (["指尖上的形式主义"], {"seed-003", "seed-000"}),
    (["僵尸群"], {"seed-000", "e-harbin-apps"}),
    (["一表通"], {"seed-001", "wuhou-forms"}),
    (["減負", "--all-stories"], ALL_WITH_JIANFU),           # Traditional query, every story that says 减负
    (["减负", "--all-stories"], ALL_WITH_JIANFU),
    (["微信工作群", "--since", "2025-03-12"], {"wujiang-apps", "yichang-checkins", "seed-000", "e-harbin-apps"}),
    (["--region", "湖北省"], {"seed-001", "yichang-checkins"}),
    (["--region", "辽宁省"], {"seed-000"}),
    (["--region", "211200"], {"seed-000"}),
    (["--region", "苏州市"], {"wujiang-apps"}),
]


@pytest.mark.parametrize(("args", "expected"), SITE_CASES, ids=[" ".join(a) for a, _ in SITE_CASES])
def test_fixture_site_searches_find_exactly_the_articles_expected(site_index, args, expected):
    s, by_url = site_index
    result = cli_json(s, "search", *args, "--limit", "200")
    assert {by_url[h["url"]] for h in result["hits"]} == expected


def test_unrelated_stories_on_the_same_newspaper_page_stay_out(site_index):
    s, by_url = site_index
    hits = cli_json(s, "search", "微信工作群", "--limit", "200")["hits"]
    tieling_page = {h["title"] for h in hits if by_url[h["url"]] == "seed-000"}
    assert tieling_page == {TIELING_TITLE, COMMENTARY_TITLE}
    # with every story of the page indexed, the unrelated ones are there but do not match
    everything = cli_json(s, "search", "--all-stories", "--limit", "500")["hits"]
    page = [h["title"] for h in everything if by_url[h["url"]] == "seed-000"]
    assert "本钢研发成功高强度冷成型汽车用钢" in page and len(page) >= 8
    traditional = [h for h in hits if by_url[h["url"]] == "seed-003"]
    assert traditional and traditional[0]["title"] == "厦门同安区:精简微信工作群 为基层干部减负"
