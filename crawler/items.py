"""What spiders yield: fetched article pages (to publish) and link reports (`source test`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from newsmon.schemas import RawPage


@dataclass
class ArticlePage:
    """An article page as downloaded; the pipelines decode it into a RawPage and publish it."""

    source_id: str
    url: str                       # the link as found (before redirects)
    final_url: str                 # after redirects
    status: int
    content_type: str | None
    body: bytes
    fetched_at: datetime
    truncated: bool = False        # the download was cut short (size cap or lost connection)
    known_sha256: str | None = None  # set when a published article is re-fetched by refresh policy
    raw: RawPage | None = None     # filled by RawPagePipeline


@dataclass
class LinkReport:
    """One link found on a start page by `newsmon source test` (nothing is published)."""

    source_id: str
    page: str
    url: str
    verdict: str                   # article | follow | ignored
    reason: str = ""
    seen: bool | None = None       # already published (None: state not consulted)
