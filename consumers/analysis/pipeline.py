"""One raw page in, zero or more understood stories out — the code path shared by `newsmon analyze`
and the processor consumer.

    HTML ─ extract ─┐
                    ├─ normalise ─ to Simplified ─ page spam? ─ junk lines out ─ split ─ per story:
    text ─ split ───┘   (original kept line-for-line)                                   relevance, regions,
                                                                                         figures, keywords,
                                                                                         policy docs, cluster
Paragraphs are converted to Simplified one by one, so the Simplified and original lists stay aligned
and every story keeps its text as written (`text_original`) next to the normalised `text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from consumers.analysis import (
    extract,
    figures,
    junk,
    keywords,
    normalize,
    regions,
    relevance,
    spam_signals,
    split,
)
from consumers.analysis.dedup import ClusterIndex, InMemoryClusterIndex
from newsmon.schemas import stable_id

# Bounds on the work one page can cost (every stage is linear, ~10-20 µs per character on one core):
# news articles are far below them; beyond them is page furniture, inline data or a dump. A page is
# analysed up to the bound, the rest is ignored: the article is at the top.
MAX_HTML_CHARS = 1_000_000   # HTML handed to extraction
MAX_TEXT_CHARS = 300_000     # paragraph text analysed per page (HTML or plain text input)
# Lone surrogates arrive through JSON escapes ("\ud800") but are not text: OpenCC, rjieba and lxml
# take UTF-8 and fail on them, so they become U+FFFD on the way in.
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass
class PageAnalysis:
    spam: bool
    spam_reason: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    byline: str | None = None
    outlet: str | None = None
    script: str = "simplified"
    stories: list[dict[str, Any]] = field(default_factory=list)


def analyze_page(
    *,
    html: str | bytes | None = None,
    text: str | None = None,
    url: str | None = None,
    page_id: str = "",
    home_region: dict | None = None,
    hints: dict | None = None,
    outlet: str | None = None,
    published_at: datetime | None = None,
    clusters: ClusterIndex | None = None,
) -> PageAnalysis:
    """Analyse one page given as HTML (extracted first) or plain text (extraction skipped)."""
    head_title, anchors, html_contacts = None, None, 0
    if html is not None:
        html = extract.decode_html(html) if isinstance(html, bytes) else html
        html = _SURROGATES.sub("\ufffd", html[:MAX_HTML_CHARS])
        page = extract.extract_page(html, url, hints)
        paragraphs, title, head_title = page.paragraphs, page.title, page.head_title
        published_at = published_at or page.published_at
        byline, outlet = page.byline, outlet or page.outlet
        # link texts: a link farm's links are dropped by extraction as navigation
        anchors = spam_signals.anchor_texts(html[:MAX_HTML_CHARS])
        html_contacts = partial(spam_signals.html_contact_hooks, html)   # counted only if needed
    else:
        text = _SURROGATES.sub("\ufffd", (text or "")[:MAX_TEXT_CHARS])
        paragraphs, title, byline = normalize.split_paragraphs(text), None, None
    paragraphs = _head(paragraphs, MAX_TEXT_CHARS)

    paragraphs = normalize.normalize_paragraphs(paragraphs)
    simplified = normalize.simplify_paragraphs(paragraphs)  # one OpenCC call per page, aligned 1:1
    title_s = normalize.to_simplified(title) if title else None
    script = normalize.detect_script("".join(paragraphs[:60]) + (title or ""))

    head_title_s = normalize.to_simplified(head_title) if head_title and head_title != title else None
    anchors_s = normalize.simplify_paragraphs(anchors) if anchors else None
    verdict = junk.page_spam_verdict(title_s, simplified, head_title_s, anchors_s, html_contacts)
    if verdict.spam:
        return PageAnalysis(spam=True, spam_reason=verdict.reason, title=title_s, published_at=published_at,
                            outlet=outlet, script=script)

    mask = junk.junk_mask(simplified)
    original = [p for p, j in zip(paragraphs, mask, strict=True) if not j]
    simplified = [p for p, j in zip(simplified, mask, strict=True) if not j]
    original, simplified = _cut_advert_sentences(original, simplified)

    result = PageAnalysis(spam=False, title=title_s, published_at=published_at, byline=byline, outlet=outlet,
                          script=script)
    spans = split.split_stories(simplified, title_s)
    drafts = [_draft(span, simplified, original, script, title, byline) for span in spans]
    drafts = [d for d in drafts if d["text"].strip()]
    for d in drafts:
        d["_relevance"] = relevance.classify_relevance(d["title"], d["text"])
    # A commentary printed next to a reported measure belongs to that story (seed 000): judge it
    # with the page's context, which its own text may lack.
    if any(d["_relevance"].relevant for d in drafts):
        for d in drafts:
            if not d["_relevance"].relevant and d["kind"] == "commentary":
                d["_relevance"] = relevance.classify_relevance(d["title"], d["text"], page_has_relevant_story=True)

    clusters = clusters if clusters is not None else InMemoryClusterIndex()
    for ordinal, d in enumerate(drafts):
        result.stories.append(_understand(d, ordinal, page_id, home_region, published_at, clusters))
    return result


def _cut_advert_sentences(original: list[str], simplified: list[str]) -> tuple[list[str], list[str]]:
    """Drop advert sentences slipped into news paragraphs (junk.spam_sentence_spans) from both
    versions. OpenCC maps news text character for character, so the spans found in the Simplified
    text cut the original too; a paragraph whose conversion changed its length keeps its original."""
    kept_original, kept_simplified = [], []
    for orig, simp in zip(original, simplified, strict=True):
        spans = junk.spam_sentence_spans(simp)
        if spans:
            simp, orig = junk.cut_spans(simp, spans), (junk.cut_spans(orig, spans) if len(orig) == len(simp) else orig)
        if simp.strip():
            kept_original.append(orig)
            kept_simplified.append(simp)
    return kept_original, kept_simplified


def _head(paragraphs: list[str], limit: int) -> list[str]:
    """The paragraphs up to `limit` characters in all (the last one cut)."""
    out, total = [], 0
    for p in paragraphs:
        if total + len(p) > limit:
            if limit - total > 0:
                out.append(p[: limit - total])
            break
        out.append(p)
        total += len(p)
    return out


def _draft(span, simplified: list[str], original: list[str], script: str, page_title: str | None,
           page_byline: str | None) -> dict[str, Any]:
    body_idx = [i for i in range(span.start, span.end) if i != span.title_index]
    text = "\n\n".join(simplified[i] for i in body_idx)
    draft: dict[str, Any] = {
        "title": span.title,
        "text": text,
        "byline": span.byline or (page_byline if span.title_index is None else None),
        "kind": span.kind,
    }
    if script == "traditional":
        draft["title_original"] = (original[span.title_index] if span.title_index is not None
                                   else (page_title or span.title))
        draft["text_original"] = "\n\n".join(original[i] for i in body_idx)
    return draft


def _understand(d: dict[str, Any], ordinal: int, page_id: str, home_region: dict | None,
                published_at: datetime | None, clusters: ClusterIndex) -> dict[str, Any]:
    rel = d.pop("_relevance")
    title, text = d["title"], d["text"]
    # A commentary argues; it reports no administration's measure, so it names no actor region.
    found_regions = ([] if d.get("kind") == "commentary" else
                     regions.detect_regions(title, text, home_region=home_region, relevant_measures=rel.measures))
    found_figures = figures.extract_figures(text, rel.measures) if rel.relevant else []
    story_id = stable_id(page_id, str(ordinal), _squash(title))
    story = {
        "id": story_id,
        "ordinal": ordinal,
        "title": title,
        "text": text,
        "relevant": rel.relevant,
        "score": round(rel.score, 4),
        "measures": rel.measures if rel.relevant else [],
        "regions": [_region(r) for r in found_regions],
        "figures": [_figure(f, d.get("text_original"), text) for f in found_figures],
        "policy_documents": keywords.extract_policy_documents(text),
        "keywords": keywords.extract_keywords(title, text),
        "published_at": published_at.isoformat() if published_at else None,
        "byline": d.get("byline"),
        "kind": d.get("kind"),
        "script": "traditional" if "text_original" in d else "simplified",
        "cluster_id": clusters.assign(story_id, title + "\n" + text),
        "reasons": rel.reasons,
    }
    if "text_original" in d:
        story["title_original"] = d["title_original"]
        story["text_original"] = d["text_original"]
    return story


def _region(r) -> dict[str, Any]:
    return {"province": r.province, "city": r.city, "county": r.county, "adcode": r.adcode,
            "lat": r.lat, "lon": r.lon}


def _figure(f, text_original: str | None, text: str) -> dict[str, Any]:
    out = {"what": f.what, "value": f.value, "unit": f.unit, "text": f.text, "measure": f.measure}
    # tw2s maps characters one to one for news text, so the same offsets locate the original wording.
    if text_original is not None and len(text_original) == len(text):
        out["text_original"] = text_original[f.start:f.start + len(f.text)]
    return out


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


# ---------------------------------------------------------------------- the analyze contract
def analyze_record(record: Any, *, clusters: ClusterIndex | None = None) -> dict[str, Any]:
    """One `newsmon analyze` input object -> one output object (DESIGN.md), never raising for bad input:
    a malformed record gives `{"id", "error"}`."""
    if not isinstance(record, dict):
        return {"id": None, "error": "each line must be a JSON object with an id and text or html"}
    rid = record.get("id")
    if rid is None or not isinstance(rid, str | int):
        return {"id": rid, "error": "missing or invalid 'id' (string or number)"}
    has_text, has_html = isinstance(record.get("text"), str), isinstance(record.get("html"), str)
    if has_text == has_html:
        return {"id": rid, "error": "give exactly one of 'text' or 'html' (a string)"}
    url = record.get("url")
    if url is not None and not isinstance(url, str):
        return {"id": rid, "error": "'url' must be a string"}
    page = analyze_page(
        html=record["html"] if has_html else None,
        text=record["text"] if has_text else None,
        url=url,
        page_id=str(rid),
        home_region=record.get("home_region") if isinstance(record.get("home_region"), dict) else None,
        outlet=record.get("outlet") if isinstance(record.get("outlet"), str) else None,
        clusters=clusters,
    )
    return {
        "id": rid,
        "spam": page.spam,
        **({"spam_reason": page.spam_reason} if page.spam else {}),
        "stories": page.stories,
    }
