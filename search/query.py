"""The query layer behind `newsmon search` (and anything else that searches stories).

Query syntax, kept small so analysts can type it without learning Lucene:

    微信工作群 减负          both (AND); each term is matched as a phrase of cjk bigrams
    "指尖上的形式主义"        quotes keep spaces inside one phrase
    政务APP OR 小程序         either
    减负 -教师 -学生          NOT

Terms are converted to Simplified first (OpenCC, like the processor), so 減負 and 减负 are the
same query. The default mode matches each term as a bigram phrase against `all_text` (every text
field in both scripts — the field Kibana's field-less queries use) and ranks title matches and
exact jieba-word matches higher; `words=True` matches exact jieba words in `title_seg`/`text_seg`
only (工作群 then does not match 微信工作群).
"""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from elasticsearch import Elasticsearch

from consumers.analysis.normalize import to_simplified
from newsmon.gazetteer import Division
from newsmon.schemas import MEASURE_LABELS_ZH, MEASURES
from search.documents import CHINA_TZ, segment_for_index

HIGHLIGHT_PRE, HIGHLIGHT_POST = "\x02", "\x03"   # never in news text; the CLI turns them into styles
TIME_ZONE = "+08:00"                             # dates typed by analysts are Beijing dates


class QueryError(ValueError):
    """A query or filter the user got wrong; the message is one line."""


# ------------------------------------------------------------------------------------ parsing
@dataclass
class ParsedQuery:
    groups: list[list[str]] = field(default_factory=list)   # AND of groups, OR inside a group
    excluded: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.groups and not self.excluded

    @property
    def terms(self) -> list[str]:
        return [t for g in self.groups for t in g]


def parse_query(text: str) -> ParsedQuery:
    try:
        tokens = shlex.split(text or "", posix=True)
    except ValueError as exc:
        raise QueryError(f"cannot parse the query {text!r}: {exc}") from None
    parsed = ParsedQuery()
    join_next = False
    for token in tokens:
        if token.upper() == "OR" and parsed.groups:
            join_next = True
            continue
        if token.startswith("-") and len(token) > 1:
            parsed.excluded.append(_normalise_term(token[1:]))
            join_next = False
            continue
        term = _normalise_term(token)
        if not term:
            continue
        if join_next:
            parsed.groups[-1].append(term)
        else:
            parsed.groups.append([term])
        join_next = False
    if join_next:
        raise QueryError(f"the query {text!r} ends with OR")
    return parsed


def _normalise_term(term: str) -> str:
    return to_simplified(" ".join(term.split()))


# ------------------------------------------------------------------------------------ request
@dataclass
class SearchRequest:
    query: str = ""
    region: Division | None = None
    measure: str | None = None
    since: date | None = None
    until: date | None = None
    source_id: str | None = None
    all_stories: bool = False
    words: bool = False
    limit: int = 20
    sort: Literal["auto", "relevance", "date"] = "auto"

    def __post_init__(self) -> None:
        if self.measure is not None and self.measure not in MEASURES:
            raise QueryError(f"unknown measure {self.measure!r}; use one of: {', '.join(MEASURES)}")
        if self.since and self.until and self.since > self.until:
            raise QueryError(f"--since {self.since} is after --until {self.until}")
        if not 0 <= self.limit <= 1000:
            raise QueryError(f"--limit must be between 0 and 1000, got {self.limit}")


def parse_day(value: str | None, *, end: bool = False, option: str = "date") -> date | None:
    """'2019', '2019-04' or '2019-04-08' → a day: the first day of the period, or with end=True
    the last (so --until 2019-04 includes all of April)."""
    if value is None or value == "":
        return None
    v = value.strip()
    try:
        if re.fullmatch(r"\d{4}", v):
            return date(int(v), 12, 31) if end else date(int(v), 1, 1)
        if re.fullmatch(r"\d{4}-\d{1,2}", v):
            y, m = (int(p) for p in v.split("-"))
            first = date(y, m, 1)
            return (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)) if end else first
        return date.fromisoformat(v)
    except ValueError:
        pass
    raise QueryError(f"invalid {option} {value!r}: use YYYY-MM-DD, YYYY-MM or YYYY")


def _phrase_clause(term: str, words: bool) -> dict[str, Any]:
    if words:
        seg = segment_for_index(term)
        if not seg:
            raise QueryError(f"the term {term!r} has no words to search for")
        return {"multi_match": {"query": seg, "type": "phrase", "fields": ["title_seg^2", "text_seg"]}}
    return {"bool": {
        "must": [{"match_phrase": {"all_text": term}}],
        # ranking only: a title hit, an exact jieba word
        "should": [{"match_phrase": {"title": {"query": term, "boost": 3}}},
                   {"match_phrase": {"text_seg": {"query": segment_for_index(term) or term, "boost": 0.5}}}],
    }}


def build_query(req: SearchRequest, parsed: ParsedQuery | None = None) -> dict[str, Any]:
    parsed = parsed or parse_query(req.query)
    must = [{"bool": {"should": [_phrase_clause(t, req.words) for t in group], "minimum_should_match": 1}}
            for group in parsed.groups]
    must_not = [_phrase_clause(t, req.words) for t in parsed.excluded]
    filters: list[dict[str, Any]] = []
    if not req.all_stories:
        filters.append({"term": {"relevant": True}})
    if req.region is not None:
        filters.append({"term": {"region_codes": req.region.adcode}})
    if req.measure:
        filters.append({"term": {"measures": req.measure}})
    if req.source_id:
        filters.append({"term": {"source_id": req.source_id}})
    if req.since or req.until:
        rng: dict[str, Any] = {"time_zone": TIME_ZONE, "format": "yyyy-MM-dd"}
        if req.since:
            rng["gte"] = req.since.isoformat()
        if req.until:
            rng["lte"] = f"{req.until.isoformat()}||/d"   # through the end of that day
        filters.append({"range": {"@timestamp": rng}})
    query = {"bool": {"must": must or [{"match_all": {}}], "must_not": must_not, "filter": filters}}
    return query


def build_body(req: SearchRequest) -> dict[str, Any]:
    parsed = parse_query(req.query)
    sort_by = req.sort if req.sort != "auto" else ("relevance" if parsed.groups else "date")
    body: dict[str, Any] = {
        "query": build_query(req, parsed),
        "size": req.limit,
        "track_total_hits": True,
        "_source": ["id", "title", "outlet", "url", "@timestamp", "published_at", "regions", "measures",
                    "relevant", "score", "source_id", "lead_figure", "script", "title_original"],
        "sort": (["_score", {"@timestamp": "desc"}] if sort_by == "relevance"
                 else [{"@timestamp": "desc"}, "_score"]),
        "aggs": {
            "province": {"terms": {"field": "regions.province", "size": 34}},
            "measure": {"terms": {"field": "measures", "size": len(MEASURES)}},
            "month": {"date_histogram": {"field": "@timestamp", "calendar_interval": "month",
                                         "time_zone": TIME_ZONE, "format": "yyyy-MM", "min_doc_count": 1}},
        },
    }
    if parsed.groups and not req.words:
        # highlight in the Simplified text whatever matched in any field of either script
        body["highlight"] = {
            "pre_tags": [HIGHLIGHT_PRE], "post_tags": [HIGHLIGHT_POST], "encoder": "default",
            "fields": {
                "text": {"fragment_size": 80, "number_of_fragments": 1, "no_match_size": 80,
                         "highlight_query": {"bool": {"should": [
                             {"match_phrase": {"text": t}} for t in parsed.terms]}}},
                "title": {"number_of_fragments": 0,
                          "highlight_query": {"bool": {"should": [
                              {"match_phrase": {"title": t}} for t in parsed.terms]}}},
            },
        }
    elif parsed.groups:
        body["highlight"] = {
            "pre_tags": [HIGHLIGHT_PRE], "post_tags": [HIGHLIGHT_POST],
            "fields": {"text": {"fragment_size": 80, "number_of_fragments": 1, "no_match_size": 80}},
        }
    else:
        body["highlight"] = {"fields": {"text": {"fragment_size": 80, "number_of_fragments": 1,
                                                 "no_match_size": 80, "highlight_query": {"match_none": {}}}}}
    return body


# ------------------------------------------------------------------------------------ results
@dataclass
class Hit:
    id: str
    score: float | None
    date: str | None
    title: str
    outlet: str | None
    url: str | None
    regions: list[dict[str, Any]]
    measures: list[str]
    relevant: bool
    snippet: str                 # with HIGHLIGHT_PRE/POST around matches
    title_highlighted: str
    lead_figure: dict[str, Any] | None

    @property
    def region_label(self) -> str:
        if not self.regions:
            return ""
        r = self.regions[0]
        name = r.get("county") or r.get("city") or r.get("province") or ""
        parent = r.get("city") if r.get("county") else (r.get("province") if r.get("city") else None)
        label = f"{parent}{name}" if parent and parent != name else name
        return label + (f" +{len(self.regions) - 1}" if len(self.regions) > 1 else "")


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    took_ms: int
    elapsed_ms: float

    def as_json(self) -> dict[str, Any]:
        def plain(s: str) -> str:
            return s.replace(HIGHLIGHT_PRE, "<em>").replace(HIGHLIGHT_POST, "</em>")

        return {
            "total": self.total,
            "took_ms": self.took_ms,
            "hits": [{"id": h.id, "score": h.score, "date": h.date, "title": h.title, "outlet": h.outlet,
                      "url": h.url, "regions": h.regions, "measures": h.measures, "relevant": h.relevant,
                      "snippet": plain(h.snippet), "lead_figure": h.lead_figure} for h in self.hits],
            "facets": {name: [{"key": k, "count": n} for k, n in buckets] for name, buckets in self.facets.items()},
        }


def _day(value: str | None) -> str | None:
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value[:10]
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(CHINA_TZ)   # the day as the reader in China saw it
    return stamp.date().isoformat()


def search_stories(es: Elasticsearch, index: str, req: SearchRequest) -> SearchResult:
    body = build_body(req)
    started = time.perf_counter()
    resp = es.search(index=index, **body)
    elapsed = (time.perf_counter() - started) * 1000
    hits = []
    for h in resp["hits"]["hits"]:
        src = h["_source"]
        hl = h.get("highlight", {})
        regions = [{k: v for k, v in r.items() if k != "location"} for r in src.get("regions") or []]
        hits.append(Hit(
            id=h["_id"], score=h.get("_score"), date=_day(src.get("@timestamp")), title=src.get("title", ""),
            outlet=src.get("outlet"), url=src.get("url"), regions=regions, measures=src.get("measures") or [],
            relevant=bool(src.get("relevant")), snippet=(hl.get("text") or [""])[0],
            title_highlighted=(hl.get("title") or [src.get("title", "")])[0], lead_figure=src.get("lead_figure")))
    aggs = resp.get("aggregations", {})
    facets = {
        "province": [(b["key"], b["doc_count"]) for b in aggs.get("province", {}).get("buckets", [])],
        "measure": [(b["key"], b["doc_count"]) for b in aggs.get("measure", {}).get("buckets", [])],
        "month": [(b["key_as_string"], b["doc_count"]) for b in aggs.get("month", {}).get("buckets", [])],
    }
    return SearchResult(total=resp["hits"]["total"]["value"], hits=hits, facets=facets, took_ms=resp["took"],
                        elapsed_ms=elapsed)


def measure_label(code: str) -> str:
    return f"{MEASURE_LABELS_ZH.get(code, code)} ({code})"
