"""The indexer stage: `newsmon.articles` → Elasticsearch `newsmon-articles` (document id = story id).

Every story is indexed, relevant or not (the `relevant` flag is a field; analysts may widen the
topic later). Spam never gets here: the processor dead-letters spam pages.

Batching: the base loop commits the consumer's offsets right after `handle_batch` returns, so
everything a batch polled must be written (or dead-lettered) before it returns. To still send
full bulks under a trickle of messages, `handle_batch` lingers: it keeps polling into the same
batch until `flush_interval` has passed since the batch's first message; the sink sends a bulk
whenever it reaches its count or byte bound, and the rest when the timer runs out. The extra
records are appended to the batch list the base holds, so a `TransientError` rewinds them too
and the base's single commit covers exactly what was written.

Outcomes per message: written → committed; refused by Elasticsearch with a 4xx (mapping or
parsing error) → dead-letter `mapping_error` with the reason; not a story → dead-letter
`invalid_json` / `invalid_story`; Elasticsearch unavailable beyond the sink's retries →
`TransientError` (nothing committed, the batch is re-read after a backoff).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any, ClassVar

from kafka.errors import KafkaError
from pydantic import ValidationError

from consumers.base import Consumer, Message, Output, PoisonMessage, TransientError
from newsmon.es import make_es
from newsmon.schemas import Story
from newsmon.settings import TOPIC_ARTICLES, Settings
from search.bulk import BulkSink, BulkUnavailable, FlushResult
from search.documents import build_document
from search.indices import ARTICLES, IndexManagementError, ensure_current

log = logging.getLogger(__name__)


class IndexerConsumer(Consumer):
    name = "indexer"
    input_topics = (TOPIC_ARTICLES,)
    batch_size: ClassVar[int] = 500

    def __init__(self, settings: Settings, group_id: str | None = None, *, es=None, max_actions: int = 500,
                 max_bytes: int = 5 * 1024 * 1024, flush_interval: float = 1.0, max_retries: int = 5):
        super().__init__(settings, group_id)
        self.es = es or make_es(settings)
        self.alias = settings.index(ARTICLES.name)
        self.sink = BulkSink(self.es, self.alias, max_actions=max_actions, max_bytes=max_bytes,
                             max_retries=max_retries)
        self.flush_interval = flush_interval
        self.indexed = 0
        self._index_checked = False

    # ------------------------------------------------------------------ one message
    def document_for(self, msg: Message) -> tuple[str, dict[str, Any]]:
        """The document a message becomes; PoisonMessage when it is not a story."""
        data = msg.json()
        try:
            story = Story.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ())) or "value"
            raise PoisonMessage("invalid_story", f"not a story: {where}: {err.get('msg')}") from None
        return story.id, build_document(story)

    def process(self, msg: Message) -> Iterable[Output]:
        """Index a single message (the batch path does the same for many); produces nothing."""
        self.handle_batch([msg])
        return ()

    # ------------------------------------------------------------------ batches
    def handle_batch(self, batch: list[Message]) -> None:
        self._check_index()
        poisoned: list[tuple[Message, PoisonMessage]] = []
        result = FlushResult()
        deadline = time.monotonic() + self.flush_interval
        try:
            result.merge(self._add_all(batch, poisoned))
            while not self._stop.is_set() and self._consumer is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    polled = self._consumer.poll(timeout_ms=max(1, int(remaining * 1000)),
                                                 max_records=self.sink.max_actions - self.sink.pending)
                except KafkaError as exc:  # broker away: stop lingering, write what the batch holds
                    log.warning("indexer: poll failed while filling the bulk (%s: %s)", type(exc).__name__, exc)
                    break
                more = [Message.from_record(r) for records in polled.values() for r in records]
                batch.extend(more)  # the base rewinds and commits this same list
                result.merge(self._add_all(more, poisoned))
            result.merge(self.sink.flush())
        except BulkUnavailable as exc:
            raise TransientError(str(exc)) from exc
        # Dead letters only once the writes are through: a retried batch must not letter twice.
        for msg, exc in poisoned:
            self.dead_letter(msg, exc.reason, exc.error, exc.details)
        for rejected in result.rejected:
            self.dead_letter(rejected.ref, rejected.dead_letter_reason,
                             f"{rejected.error_type}: {rejected.reason}",
                             {"index": self.alias, "doc_id": rejected.doc_id, "status": rejected.status})
        self.indexed += result.indexed

    def _add_all(self, messages: list[Message], poisoned: list[tuple[Message, PoisonMessage]]) -> FlushResult:
        result = FlushResult()
        for msg in messages:
            try:
                doc_id, document = self.document_for(msg)
            except PoisonMessage as exc:
                poisoned.append((msg, exc))
                continue
            except Exception as exc:  # a story our document builder cannot handle: keep the stream going
                log.exception("indexer: building the document failed at %s[%d]@%d", msg.topic, msg.partition,
                              msg.offset)
                poisoned.append((msg, PoisonMessage("exception", f"{type(exc).__name__}: {exc}")))
                continue
            result.merge(self.sink.add(doc_id, document, ref=msg))
        return result

    def _check_index(self) -> None:
        """Create templates and alias on first use, and refuse to write into an index whose mapping
        is older than this code (its strict mapping would reject the new fields): wait for
        `newsmon index migrate` instead, without committing anything."""
        if self._index_checked:
            return
        try:
            ensure_current(self.es, self.settings, ARTICLES)
        except IndexManagementError as exc:
            raise TransientError(str(exc)) from exc
        except Exception as exc:  # Elasticsearch not reachable yet
            raise TransientError(f"cannot prepare {self.alias}: {exc}") from exc
        self._index_checked = True

    def close(self) -> None:
        self.es.close()
