"""Index templates for `newsmon-articles` and `newsmon-campaigns`: settings, mappings, field docs.

Each name in the design contract is an *alias* over versioned physical indices
(`newsmon-articles-v1-000001`, ...), so a mapping change is a new index plus an atomic alias
switch (`newsmon index migrate`), never downtime. The template matches `<alias>-v*` only.

How Chinese text is searchable — with only what both the local test node and a full production
node have (the `cjk` analyzer, the `whitespace` analyzer, core filters; no ICU, no
analysis-common filters, no jieba or STConvert plugin):

* `title` and `text` (Simplified, normalised by the processor) use `cjk`: overlapping bigrams, so
  a phrase query such as `text:"指尖上的形式主义"` matches the bigram sequence, and a query for a
  word never matches stories that merely share single characters with it (the `standard`
  analyzer indexes every Han character as its own token).
* Traditional ⇄ Simplified. No analyzer available on both nodes converts scripts, so the
  conversion happens at index time, in Python, with OpenCC:
  - `title_original` / `text_original` keep the story as written (Traditional stories);
  - `title_traditional` / `text_traditional` hold OpenCC's Taiwan and Hong Kong renderings
    (`s2tw`, `s2hk`) of the Simplified text, so a Traditional query (減負, 為基層減負) also finds
    stories that were written in Simplified (减负);
  - all of them, plus outlet, byline, regions, keywords and policy documents, are copied into
    `all_text` (cjk), which is the index's `index.query.default_field`. Kibana's field-less KQL
    and Lucene queries therefore hit both scripts: 减负 finds the Traditional 同安区 story through
    its normalised `text`, 減負 finds every Simplified 减负 story through `text_traditional`.
  The CLI additionally converts the query to Simplified (OpenCC `tw2s`, as the processor does) so
  it can highlight in `text`.
  The alternative — converting only queries — cannot work for Kibana, which sends the user's
  characters untouched; a second Traditional copy of the text costs index size, not latency.
* `title_seg` / `text_seg`: the processor's jieba segmentation (rjieba + the domain dictionary),
  words joined by spaces and lower-cased, analysed with `whitespace`. The CLI's `--words` mode
  queries these for exact words (工作群 does not match inside 微信工作群 there; with bigrams it
  does). No jieba plugin is needed on either node.
Derived fields (`*_seg`, `*_traditional`) are left out of `_source`: they are rebuilt from the
story fields by `search.documents` whenever a document is written or migrated.
"""

from __future__ import annotations

from typing import Any

from newsmon.schemas import MEASURES

ARTICLES_MAPPING_VERSION = 1
CAMPAIGNS_MAPPING_VERSION = 1
TEMPLATE_PRIORITY = 200  # above Elastic's built-in templates (logs-*-*, metrics-*-* at 100)

# Keyword values longer than this are kept in _source but not indexed (instead of rejecting the
# document: Lucene refuses terms over 32766 bytes).
_KEYWORD_MAX = 1024


def _kw(ignore_above: int = _KEYWORD_MAX, **extra: Any) -> dict[str, Any]:
    return {"type": "keyword", "ignore_above": ignore_above, **extra}


def _cjk(**extra: Any) -> dict[str, Any]:
    # offsets in the postings let the unified highlighter work without re-analysing long texts
    return {"type": "text", "analyzer": "cjk", "index_options": "offsets", **extra}


def _region_properties(**name_options: Any) -> dict[str, Any]:
    return {
        "province": _kw(**name_options),
        "city": _kw(**name_options),
        "county": _kw(**name_options),
        "adcode": _kw(),
        "location": {"type": "geo_point"},
    }

_FIGURE_PROPERTIES: dict[str, Any] = {
    "what": _kw(),
    "value": {"type": "double"},
    "unit": _kw(),
    "measure": _kw(),
    "text": _cjk(),
}

ARTICLE_FIELDS: dict[str, str] = {
    "id": "story id (= document _id; stable across redelivery)",
    "page_key": "hash of the canonical URL of the page the story came from",
    "ordinal": "position of the story on its page (0 = first)",
    "source_id": "id of the registered source (newsmon-sources)",
    "outlet": "newspaper or site name, e.g. 辽宁日报",
    "url": "canonical URL of the page",
    "title": "title, Simplified (cjk bigrams); title.keyword for tables",
    "title_original": "title as written when the page was Traditional",
    "title_traditional": "OpenCC s2tw/s2hk renderings of title, so Traditional queries match (not in _source)",
    "title_seg": "jieba words of title, space-separated, lower-case (not in _source)",
    "text": "story text, Simplified and normalised (cjk bigrams)",
    "text_original": "story text as written when the page was Traditional",
    "text_traditional": "OpenCC s2tw/s2hk renderings of text (not in _source)",
    "text_seg": "jieba words of text (not in _source)",
    "all_text": "copy_to target: every text field in both scripts plus outlet, byline, regions, keywords, "
                "policy documents; the default field of field-less Kibana queries",
    "byline": "author line",
    "script": "simplified | traditional: the script the page was written in",
    "kind": "news | commentary | brief | continuation",
    "@timestamp": "published_at, else fetched_at, else indexed_at (Kibana's time field)",
    "timestamp_source": "which of published/fetched/indexed @timestamp came from",
    "published_at": "publication time from the page (null when unknown)",
    "fetched_at": "time the crawler fetched the page",
    "indexed_at": "time the indexer wrote this version of the document",
    "relevant": "true for 基层减负 stories (the classifier's verdict)",
    "score": "classifier probability of relevance, 0..1",
    "measures": f"measure codes: {', '.join(MEASURES)}",
    "measure_labels": "measures as Chinese labels (MEASURE_LABELS_ZH), for Kibana charts",
    "regions": "administrations that run the measures: province/city/county/adcode, location",
    "regions.location": "geo_point of the most specific division (for Kibana Maps)",
    "region_codes": "every enclosing adcode of every region (210000, 211200, ...): region filters",
    "figures": "nested key quantities: what, value, unit, measure, text",
    "lead_figure": "the story's largest count figure (flat copy of one figure, aggregatable in Kibana)",
    "figure_count": "number of figures",
    "policy_documents": "titles of policy documents cited (《...》)",
    "keywords": "TF-IDF keywords of the story",
    "cluster_id": "near-duplicate cluster (same story carried by several outlets)",
}


def articles_mappings() -> dict[str, Any]:
    return {
        "dynamic": "strict",
        "_meta": {"mapping_version": ARTICLES_MAPPING_VERSION, "fields": ARTICLE_FIELDS},
        "_source": {"excludes": ["title_seg", "text_seg", "title_traditional", "text_traditional"]},
        "properties": {
            "id": _kw(),
            "page_key": _kw(),
            "ordinal": {"type": "integer"},
            "source_id": _kw(),
            "outlet": _kw(copy_to="all_text"),
            "url": _kw(ignore_above=4096),
            "title": _cjk(copy_to="all_text", fields={"keyword": _kw(ignore_above=512)}),
            "title_original": _cjk(copy_to="all_text"),
            "title_traditional": _cjk(copy_to="all_text"),
            "title_seg": {"type": "text", "analyzer": "whitespace"},
            "text": _cjk(copy_to="all_text"),
            "text_original": _cjk(copy_to="all_text"),
            "text_traditional": _cjk(copy_to="all_text"),
            "text_seg": {"type": "text", "analyzer": "whitespace"},
            "all_text": {"type": "text", "analyzer": "cjk"},
            "byline": _kw(copy_to="all_text"),
            "script": _kw(),
            "kind": _kw(),
            "@timestamp": {"type": "date"},
            "timestamp_source": _kw(),
            "published_at": {"type": "date"},
            "fetched_at": {"type": "date"},
            "indexed_at": {"type": "date"},
            "relevant": {"type": "boolean"},
            "score": {"type": "float"},
            "measures": _kw(),
            "measure_labels": _kw(),
            # an object array (not nested) so Kibana can aggregate regions.province etc.
            "regions": {"properties": _region_properties(copy_to="all_text")},
            "region_codes": _kw(),
            "figures": {"type": "nested", "properties": dict(_FIGURE_PROPERTIES)},
            "lead_figure": {"properties": dict(_FIGURE_PROPERTIES)},
            "figure_count": {"type": "integer"},
            "policy_documents": _kw(copy_to="all_text"),
            "keywords": _kw(copy_to="all_text"),
            "cluster_id": _kw(),
        },
    }


def articles_settings() -> dict[str, Any]:
    return {
        "number_of_shards": 1,            # thousands of stories a day: one shard is plenty
        "auto_expand_replicas": "0-1",    # green on one node, a replica as soon as there are two
        "query": {"default_field": ["all_text"]},
        "refresh_interval": "1s",
    }


CAMPAIGN_FIELDS: dict[str, str] = {
    "id": "campaign id (stable: derived from region and measures)",
    "title": "representative title (cjk); title.keyword for tables",
    "regions": "regions of the campaign: province/city/county/adcode, location",
    "region_codes": "every enclosing adcode (region filters)",
    "measures": "measure codes",
    "measure_labels": "measures as Chinese labels",
    "first_seen": "@timestamp of the earliest story",
    "last_seen": "@timestamp of the latest story",
    "updated_at": "last time the alerter changed this campaign",
    "stories": "ids of the stories (newsmon-articles)",
    "story_count": "number of stories",
    "outlets": "outlets that reported it",
    "outlet_count": "number of distinct outlets",
    "best_figures": "largest figures across the stories: what, value, unit, measure, story_id",
    "status": "new | active | closed",
    "alerted_at": "when the e-mail for this campaign went out (null before)",
    # written by the alerter (search.alerts.indices.CAMPAIGN_ALERTER_PROPERTIES)
    "scope": "region | national",
    "region_name": "the administration as one name, e.g. 辽宁省铁岭市 (全国 for national campaigns)",
    "summary": "lead paragraph of the first story (cjk)",
    "policy_documents": "policy documents cited by the stories",
    "created_at": "when the alerter opened the campaign",
    "alert_count": "e-mails sent about it",
    "story_details": "per story: id, title, url, outlet, published_at",
}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra`'s fields added to `base`; objects present in both get their properties merged."""
    out = dict(base)
    for name, spec in extra.items():
        if name in out and "properties" in out[name] and "properties" in spec:
            out[name] = {**out[name], "properties": _merge(out[name]["properties"], spec["properties"])}
        else:
            out[name] = spec
    return out


def campaigns_mappings() -> dict[str, Any]:
    # The alerter owns the fields only it writes (search.alerts.indices); they are part of the
    # template so that a migration's new index has them too.
    from search.alerts.indices import CAMPAIGN_ALERTER_PROPERTIES

    mappings = _campaigns_base_mappings()
    mappings["properties"] = _merge(mappings["properties"], CAMPAIGN_ALERTER_PROPERTIES)
    return mappings


def _campaigns_base_mappings() -> dict[str, Any]:
    return {
        "dynamic": "strict",
        "_meta": {"mapping_version": CAMPAIGNS_MAPPING_VERSION, "fields": CAMPAIGN_FIELDS},
        "properties": {
            "id": _kw(),
            "title": _cjk(fields={"keyword": _kw(ignore_above=512)}),
            "regions": {"properties": _region_properties()},
            "region_codes": _kw(),
            "measures": _kw(),
            "measure_labels": _kw(),
            "first_seen": {"type": "date"},
            "last_seen": {"type": "date"},
            "updated_at": {"type": "date"},
            "stories": _kw(),
            "story_count": {"type": "integer"},
            "outlets": _kw(),
            "outlet_count": {"type": "integer"},
            "best_figures": {"properties": {
                "what": _kw(), "value": {"type": "double"}, "unit": _kw(), "measure": _kw(), "story_id": _kw()}},
            "status": _kw(),
            "alerted_at": {"type": "date"},
        },
    }


def campaigns_settings() -> dict[str, Any]:
    return {"number_of_shards": 1, "auto_expand_replicas": "0-1", "refresh_interval": "1s"}
