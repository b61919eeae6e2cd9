"""The processor stage: `newsmon.raw-pages` → stories on `newsmon.articles` (key = story id).

All the understanding is `consumers.analysis.pipeline.analyze_page`, the same code as
`newsmon analyze`. Story ids derive from the page key and the story's position and title, so a
redelivered page produces the same ids and downstream writes stay idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from consumers.analysis.dedup import InMemoryClusterIndex
from consumers.analysis.pipeline import analyze_page
from consumers.base import Consumer, Message, Output, PoisonMessage
from newsmon.schemas import RawPage, Story
from newsmon.settings import TOPIC_ARTICLES, TOPIC_RAW_PAGES, Settings

_TEXTUAL = ("text/", "application/xhtml", "application/xml", "application/rss", "application/atom")


class ProcessorConsumer(Consumer):
    name = "processor"
    input_topics = (TOPIC_RAW_PAGES,)
    output_topics = (TOPIC_ARTICLES,)
    batch_size = 50

    def __init__(self, settings: Settings, group_id: str | None = None):
        super().__init__(settings, group_id)
        self.clusters = InMemoryClusterIndex()

    def process(self, msg: Message) -> Iterable[Output]:
        data = msg.json()
        try:
            page = RawPage.model_validate(data)
        except ValidationError as exc:
            raise PoisonMessage("invalid_message", f"not a raw page: {exc.errors()[0]['loc']}: "
                                                   f"{exc.errors()[0]['msg']}") from None
        ctype = (page.content_type or "text/html").split(";")[0].strip().lower()
        if not ctype.startswith(_TEXTUAL):
            raise PoisonMessage("not_text", f"content type {ctype!r} is not a text page")
        if _looks_binary(page.body):
            raise PoisonMessage("undecodable", "body is binary data, not text")
        result = analyze_page(
            html=page.body, url=page.final_url or page.url, page_id=page.key,
            home_region=page.home_region.model_dump() if page.home_region else None,
            hints=page.extraction_hints, outlet=page.outlet, clusters=self.clusters,
        )
        if result.spam:
            raise PoisonMessage("spam", result.spam_reason or "page-level spam", {"url": page.url})
        if not result.stories:
            raise PoisonMessage("no_content", "no story text found on the page", {"url": page.url})
        for s in result.stories:
            story = Story(
                **{k: v for k, v in s.items() if k in Story.model_fields},
                page_key=page.key, source_id=page.source_id, outlet=result.outlet or page.outlet,
                url=page.canonical_url, fetched_at=page.fetched_at,
            )
            yield Output(TOPIC_ARTICLES, story.id, story.model_dump(mode="json"))


def _looks_binary(body: str, sample: int = 4096) -> bool:
    head = body[:sample]
    if not head:
        return False
    bad = sum(1 for c in head if c == "\x00" or c == "\ufffd" or (ord(c) < 32 and c not in "\t\n\r\f"))
    return bad / len(head) > 0.1
