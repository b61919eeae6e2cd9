"""Plain data passed between the analysis steps (dataclasses: cheap, no validation on the hot path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class ExtractedPage:
    """What extraction found on a page. `paragraphs` are in the page's own script, in reading order,
    with page furniture (nav, breadcrumbs, share widgets, footers) already dropped where the
    extractor could tell."""

    title: str | None
    paragraphs: list[str]
    published_at: datetime | None = None
    byline: str | None = None
    outlet: str | None = None
    head_title: str | None = None   # the <title> as written: a keyword title marks a spam mirror


@dataclass(slots=True)
class SpamVerdict:
    spam: bool
    reason: str | None = None      # e.g. "porn keyword header", "keyword stuffing", "link farm"
    score: float = 0.0


@dataclass(slots=True)
class StorySpan:
    """One story inside a page: paragraph indices [start, end) into the cleaned paragraph list.
    `title_index` is the paragraph holding the title (None when the story has no own title and
    the page title applies)."""

    start: int
    end: int
    title: str
    title_index: int | None = None
    byline: str | None = None
    kind: str | None = None        # "news" | "commentary" | "brief" | "continuation"


@dataclass(slots=True)
class RelevanceResult:
    relevant: bool
    score: float                   # 0..1, calibrated-ish probability of being a 基层减负 story
    measures: list[str] = field(default_factory=list)   # fixed vocabulary, newsmon.schemas.MEASURES
    reasons: list[str] = field(default_factory=list)    # human-readable why (matched cues)


@dataclass(slots=True)
class FoundRegion:
    province: str | None
    city: str | None
    county: str | None
    adcode: str
    lat: float | None = None
    lon: float | None = None
    score: float = 0.0


@dataclass(slots=True)
class FoundFigure:
    what: str
    value: float
    unit: str
    text: str                      # exact substring of the story text given to extract_figures
    start: int                     # offset of `text` in that story text
    measure: str | None = None
