"""Item pipelines: what happens to a fetched article page.

RawPagePipeline decodes and checks it (charset, size cap, unchanged-on-refresh); KafkaPipeline
publishes it to `newsmon.raw-pages` and, once Kafka acknowledged it, records it in the shared
crawl state. LinkReportPipeline prints `newsmon source test` results instead (nothing published).
"""

from __future__ import annotations

import hashlib
import logging
import threading

from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, threads

from crawler.canonical import canonical_url
from crawler.encoding import decode_body
from crawler.events import emit
from crawler.items import ArticlePage, LinkReport
from crawler.state import CrawlState, Published
from newsmon.kafka import dumps, ensure_topics, make_producer
from newsmon.schemas import RawPage, utcnow
from newsmon.settings import TOPIC_CRAWL_REQUESTS, TOPIC_RAW_PAGES

log = logging.getLogger(__name__)


class RawPagePipeline:
    """ArticlePage -> RawPage: decode (charset detection over the whole body), hash the raw
    bytes, cap the size, and drop a refreshed page whose bytes did not change."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.max_bytes = crawler.settings.getint("NEWSMON_MAX_PAGE_BYTES")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_item(self, item, spider=None):
        if not isinstance(item, ArticlePage):
            return item
        source = self.crawler.spider.source
        # decoding and charset detection are CPU work: off the reactor thread
        return await maybe_deferred_to_future(threads.deferToThread(self._build, item, source))

    def _build(self, item: ArticlePage, source) -> ArticlePage:
        sha = hashlib.sha256(item.body).hexdigest()
        if item.known_sha256 and item.known_sha256 == sha:
            self.crawler.stats.inc_value("newsmon/not_modified")
            raise DropItem(f"unchanged since last published: {item.url}")
        body, truncated = item.body, item.truncated
        if len(body) > self.max_bytes:
            # Pages between the cap and DOWNLOAD_MAXSIZE are kept, cut to the cap: the story is
            # at the top, and the processor must never see 50 MB of HTML.
            body, truncated = body[: self.max_bytes], True
        if source.encoding:
            decoded_text = body.decode(source.encoding, errors="replace")
            declared, detected = source.encoding, source.encoding
        else:
            decoded = decode_body(body, item.content_type, truncated=truncated)
            decoded_text, declared, detected = decoded.text, decoded.declared, decoded.detected
        item.raw = RawPage(
            url=item.url, final_url=item.final_url, canonical_url=canonical_url(item.url),
            source_id=item.source_id, fetched_at=item.fetched_at, status=item.status,
            content_type=item.content_type, declared_encoding=declared, detected_encoding=detected,
            body=decoded_text, sha256=sha, truncated=truncated, outlet=source.outlet,
            home_region=source.region,
            extraction_hints=source.extraction_hints.as_dict() if source.extraction_hints else None,
        )
        return item


class KafkaPipeline:
    """Publish each page (key = canonical URL hash) and wait for the broker's acknowledgement
    before the item counts as done. The producer is acks=all, idempotent, gzip, retrying
    (newsmon.kafka.make_producer). Pages Kafka acknowledged are written to the crawl state in
    batches; on spider close the producer is flushed and the last batch written, so a finished
    crawl has lost nothing. A failed produce is counted as an error with its message."""

    STATE_BATCH = 50

    def __init__(self, crawler, settings):
        self.crawler = crawler
        self.settings = settings
        self.topic = settings.topic(TOPIC_RAW_PAGES)
        self.producer = None
        self.state: CrawlState | None = None
        self._acked: list[Published] = []
        self._lock = threading.Lock()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings["NEWSMON_SETTINGS"])

    def open_spider(self, spider=None):
        spider = spider or self.crawler.spider
        ensure_topics(self.settings, [TOPIC_RAW_PAGES, TOPIC_CRAWL_REQUESTS])
        self.producer = make_producer(self.settings)
        self.state = spider.crawl_state

    async def process_item(self, item, spider=None):
        if not isinstance(item, ArticlePage) or item.raw is None:
            return item
        raw = item.raw
        done: defer.Deferred = defer.Deferred()
        try:
            future = self.producer.send(self.topic, key=raw.key.encode(), value=dumps(raw.model_dump(mode="json")))
        except Exception as exc:  # serialisation, buffer full, closed producer
            self._failed(raw, exc)
            raise DropItem(f"produce failed: {exc}") from None
        # kafka-python completes futures on its I/O thread; hop back onto the reactor thread.
        from twisted.internet import reactor  # imported late: Scrapy installs its reactor first

        future.add_callback(lambda _md: reactor.callFromThread(done.callback, item))
        future.add_errback(lambda exc: reactor.callFromThread(done.errback, exc))
        done.addCallbacks(self._acked_item, lambda f: self._produce_error(raw, f))
        return await maybe_deferred_to_future(done)

    def _acked_item(self, item: ArticlePage):
        raw = item.raw
        self.crawler.stats.inc_value("newsmon/published")
        emit("published", source=raw.source_id, url=raw.canonical_url, key=raw.key)
        with self._lock:
            self._acked.append(Published(raw.key, raw.source_id, raw.url, raw.canonical_url, raw.sha256, utcnow(),
                                         canonical_url(raw.final_url)))
            batch = self._take_batch() if len(self._acked) >= self.STATE_BATCH else []
        if batch:
            d = threads.deferToThread(self._record, batch)
            d.addCallback(lambda _r: item)
            return d
        return item

    def _take_batch(self) -> list[Published]:
        batch, self._acked = self._acked, []
        return batch

    def _record(self, batch: list[Published]) -> None:
        try:
            self.state.record(batch)
        except Exception as exc:
            # Published but not marked: the next crawl re-publishes them (same keys: idempotent).
            self.crawler.spider.error(f"crawl state write failed for {len(batch)} pages: {exc}")

    def _produce_error(self, raw: RawPage, failure):
        self._failed(raw, failure.value)
        raise DropItem(f"produce failed: {failure.getErrorMessage()}")

    def _failed(self, raw: RawPage, exc) -> None:
        self.crawler.stats.inc_value("newsmon/produce_errors")
        self.crawler.spider.error(f"Kafka produce failed for {raw.url}: {exc}")

    async def close_spider(self, spider=None):
        await maybe_deferred_to_future(threads.deferToThread(self._close))

    def _close(self) -> None:
        if self.producer is not None:
            try:
                self.producer.flush(timeout=120)
            finally:
                self.producer.close(timeout=30)
        with self._lock:
            batch = self._take_batch()
        if batch:
            self._record(batch)


class LinkReportPipeline:
    """`newsmon source test`: each link verdict becomes an event for the CLI to show."""

    def process_item(self, item, spider=None):
        if isinstance(item, LinkReport):
            emit("link", source=item.source_id, page=item.page, url=item.url, verdict=item.verdict,
                 reason=item.reason, seen=item.seen)
        return item
