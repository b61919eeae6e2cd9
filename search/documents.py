"""Story (the `newsmon.articles` message) ⇄ `newsmon-articles` document.

`build_document` is the only place that decides what a document holds; the indexer and the
migration both call it, so derived fields (jieba words, the Traditional rendering, region codes,
the lead figure) are always computed the same way. `story_from_source` inverts it from a stored
`_source`, which is what lets `newsmon index migrate` rebuild documents for a new mapping without
Kafka and without `_reindex`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any

import opencc

from consumers.analysis.segment import cut
from newsmon import gazetteer
from newsmon.schemas import MEASURE_LABELS_ZH, Figure, Region, Story

# Chinese news dates without a zone are Beijing time (no daylight saving, so a fixed offset).
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
_WORD = re.compile(r"\w")
_PERCENT_UNITS = {"%", "％", "成", "个百分点", "百分点"}


# Traditional as Taiwan and Hong Kong write it (為/群/裡 vs 為/羣/裏): analysts type either, and
# OpenCC's plain `s2t` (爲, 羣) matches neither habit.
_TRADITIONAL_CONFIGS = ("s2tw", "s2hk")


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def traditional_variants(text: str) -> list[str]:
    """The Traditional renderings of Simplified `text` that differ from it (deduplicated)."""
    out: list[str] = []
    for config in _TRADITIONAL_CONFIGS:
        variant = _converter(config).convert(text)
        if variant != text and variant not in out:
            out.append(variant)
    return out


def segment_for_index(text: str) -> str:
    """jieba words joined by single spaces, lower-cased, punctuation and spaces dropped: the value
    of `*_seg` fields and the form CLI word queries are put in."""
    return " ".join(tok.lower() for tok in cut(text) if _WORD.search(tok))


def as_aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=CHINA_TZ)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def region_codes(regions: list[Region]) -> list[str]:
    """Every enclosing division code of every region: 430104 → 430000, 430100, 430104. A filter on
    a province or city is then one term query, whatever level the story's region is at."""
    codes: list[str] = []
    for r in regions:
        code = (r.adcode or "")[:6]
        if len(code) != 6 or not code.isdigit():
            continue
        for candidate in (code[:2] + "0000", code[:4] + "00", code):
            if candidate not in codes and (candidate == code or gazetteer.lookup(candidate) is not None):
                codes.append(candidate)
    return codes


def _region_doc(r: Region) -> dict[str, Any]:
    lat, lon = r.lat, r.lon
    if (lat is None or lon is None) and r.adcode:
        # the processor may give a region without coordinates; the gazetteer has them
        division = gazetteer.lookup(r.adcode)
        if division is not None and division.lat is not None and division.lon is not None:
            lat, lon = division.lat, division.lon
    doc: dict[str, Any] = {"province": r.province, "city": r.city, "county": r.county, "adcode": r.adcode}
    if lat is not None and lon is not None:
        doc["location"] = {"lat": lat, "lon": lon}
    return doc


def _figure_doc(f: Figure) -> dict[str, Any]:
    return {"what": f.what, "value": f.value, "unit": f.unit, "measure": f.measure, "text": f.text}


def lead_figure(figures: list[Figure]) -> Figure | None:
    """The largest count (个, 家, 万元 ...) of the story; percentages are not comparable across
    stories, so they never lead."""
    counts = [f for f in figures if f.unit.strip() not in _PERCENT_UNITS]
    return max(counts, key=lambda f: f.value) if counts else None


def build_document(story: Story, *, indexed_at: datetime | None = None) -> dict[str, Any]:
    indexed_at = as_aware(indexed_at) or datetime.now(UTC)
    published, fetched = as_aware(story.published_at), as_aware(story.fetched_at)
    timestamp, timestamp_source = next(
        (t, name) for t, name in ((published, "published"), (fetched, "fetched"), (indexed_at, "indexed"))
        if t is not None)
    lead = lead_figure(story.figures)
    doc: dict[str, Any] = {
        "id": story.id,
        "page_key": story.page_key,
        "ordinal": story.ordinal,
        "source_id": story.source_id,
        "outlet": story.outlet,
        "url": story.url,
        "title": story.title,
        "title_seg": segment_for_index(story.title),
        "text": story.text,
        "text_seg": segment_for_index(story.text),
        "byline": story.byline,
        "script": story.script,
        "kind": story.kind,
        "@timestamp": _iso(timestamp),
        "timestamp_source": timestamp_source,
        "published_at": _iso(published),
        "fetched_at": _iso(fetched),
        "indexed_at": _iso(indexed_at),
        "relevant": story.relevant,
        "score": story.score,
        "measures": list(story.measures),
        "measure_labels": [MEASURE_LABELS_ZH.get(m, m) for m in story.measures],
        "regions": [_region_doc(r) for r in story.regions],
        "region_codes": region_codes(story.regions),
        "figures": [_figure_doc(f) for f in story.figures],
        "lead_figure": _figure_doc(lead) if lead else None,
        "figure_count": len(story.figures),
        "policy_documents": list(story.policy_documents),
        "keywords": list(story.keywords),
        "cluster_id": story.cluster_id,
    }
    # The original only when it differs (a Simplified page's original is its text).
    if story.title_original and story.title_original != story.title:
        doc["title_original"] = story.title_original
    if story.text_original and story.text_original != story.text:
        doc["text_original"] = story.text_original
    title_t = [v for v in traditional_variants(story.title) if v != story.title_original]
    text_t = [v for v in traditional_variants(story.text) if v != story.text_original]
    if title_t:
        doc["title_traditional"] = title_t
    if text_t:
        doc["text_traditional"] = text_t
    return doc


def story_from_source(source: dict[str, Any]) -> Story:
    """The Story a stored document was built from (derived fields are ignored and rebuilt)."""
    regions = []
    for r in source.get("regions") or []:
        loc = r.get("location") or {}
        regions.append(Region(province=r.get("province"), city=r.get("city"), county=r.get("county"),
                              adcode=r.get("adcode"), lat=loc.get("lat"), lon=loc.get("lon")))
    fields = {k: source.get(k) for k in (
        "id", "page_key", "source_id", "outlet", "url", "title", "title_original", "text", "text_original",
        "byline", "script", "published_at", "fetched_at", "relevant", "score", "cluster_id", "kind")}
    return Story(
        **{k: v for k, v in fields.items() if v is not None},
        ordinal=source.get("ordinal") or 0,
        measures=source.get("measures") or [],
        regions=regions,
        figures=[Figure(**f) for f in source.get("figures") or []],
        policy_documents=source.get("policy_documents") or [],
        keywords=source.get("keywords") or [],
    )


def rebuild_document(source: dict[str, Any]) -> dict[str, Any]:
    """A stored document rebuilt for the current mapping, keeping when it was indexed."""
    indexed_at = source.get("indexed_at")
    return build_document(story_from_source(source),
                          indexed_at=datetime.fromisoformat(indexed_at) if indexed_at else None)
