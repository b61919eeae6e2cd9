"""The processor stage: `newsmon.raw-pages` → stories on `newsmon.articles` (key = story id).

All the understanding is `consumers.analysis.pipeline.analyze_page`, the same code as
`newsmon analyze`. Story ids derive from the page key and the story's position and title, so a
redelivered page produces the same ids and downstream writes stay idempotent.

Near-duplicate clusters are resolved once per batch: every page of the batch is analysed first
(signing its stories), then one `ClusterStore.resolve` call gives all cluster ids (a few requests
to the shared `newsmon-dedup` index, see `consumers.dedup_store`), then the stories are produced.
If that store is unavailable the batch is retried (TransientError), so no page is lost and no
story gets an id the other processes would not agree with.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from consumers.analysis.dedup import DeferredClusterIndex
from consumers.analysis.pipeline import PageAnalysis, analyze_page
from consumers.base import Consumer, Message, Output, PoisonMessage
from consumers.dedup_store import make_cluster_store
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
        self.cluster_store = make_cluster_store(settings)
        self._prepared: dict[tuple[str, int, int], list[Output] | Exception] = {}

    def handle_batch(self, batch: list[Message]) -> None:
        """Analyse the whole batch, resolve its clusters in one store call, then let the base
        produce (or dead-letter) message by message from what was prepared."""
        clusters = DeferredClusterIndex(self.cluster_store)
        analysed: dict[tuple[str, int, int], tuple[RawPage, PageAnalysis] | Exception] = {}
        for msg in batch:
            try:
                analysed[_where(msg)] = self._analyse(msg, clusters)
            except Exception as exc:  # re-raised by process(), where the base dead-letters it
                analysed[_where(msg)] = exc
        cluster_ids = clusters.resolve()  # TransientError if the store is down: the batch is retried
        self._prepared = {where: done if isinstance(done, Exception) else self._try_outputs(*done, cluster_ids)
                          for where, done in analysed.items()}
        try:
            super().handle_batch(batch)
        finally:
            self._prepared = {}

    def process(self, msg: Message) -> Iterable[Output]:
        prepared = self._prepared.pop(_where(msg), None)
        if prepared is None:  # called on its own (not from handle_batch): a batch of one
            clusters = DeferredClusterIndex(self.cluster_store)
            page, result = self._analyse(msg, clusters)
            return self._outputs(page, result, clusters.resolve())
        if isinstance(prepared, Exception):
            raise prepared
        return prepared

    def _analyse(self, msg: Message, clusters: DeferredClusterIndex) -> tuple[RawPage, PageAnalysis]:
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
            hints=page.extraction_hints, outlet=page.outlet, clusters=clusters,
        )
        if result.spam:
            raise PoisonMessage("spam", result.spam_reason or "page-level spam", {"url": page.url})
        if not result.stories:
            raise PoisonMessage("no_content", "no story text found on the page", {"url": page.url})
        return page, result

    def _try_outputs(self, page: RawPage, result: PageAnalysis,
                     cluster_ids: dict[str, str]) -> list[Output] | Exception:
        try:
            return self._outputs(page, result, cluster_ids)
        except Exception as exc:
            return exc

    @staticmethod
    def _outputs(page: RawPage, result: PageAnalysis, cluster_ids: dict[str, str]) -> list[Output]:
        outputs = []
        for s in result.stories:
            s["cluster_id"] = cluster_ids[s["id"]]
            story = Story(
                **{k: v for k, v in s.items() if k in Story.model_fields},
                page_key=page.key, source_id=page.source_id, outlet=result.outlet or page.outlet,
                url=page.canonical_url, fetched_at=page.fetched_at,
            )
            outputs.append(Output(TOPIC_ARTICLES, story.id, story.model_dump(mode="json")))
        return outputs


def _where(msg: Message) -> tuple[str, int, int]:
    return msg.topic, msg.partition, msg.offset


def _looks_binary(body: str, sample: int = 4096) -> bool:
    head = body[:sample]
    if not head:
        return False
    bad = sum(1 for c in head if c == "\x00" or c == "\ufffd" or (ord(c) < 32 and c not in "\t\n\r\f"))
    return bad / len(head) > 0.1
