"""Scrapy extension that reports each source's counters while it crawls and when it ends."""

from __future__ import annotations

from scrapy import signals
from twisted.internet import task

from crawler.events import emit
from newsmon.schemas import utcnow

COUNTERS = {
    "pages": "newsmon/pages_fetched",
    "articles_new": "newsmon/articles_new",
    "published": "newsmon/published",
    "skipped_seen": "newsmon/skipped_seen",
    "not_modified": "newsmon/not_modified",
    "robots_blocked": "newsmon/robots_blocked",
    "errors": "newsmon/errors",
}


class ProgressReporter:
    def __init__(self, crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.loop: task.LoopingCall | None = None
        self.started_at = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.response_received, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getfloat("NEWSMON_PROGRESS_INTERVAL", 0.5))

    def opened(self, spider):
        self.started_at = utcnow()
        emit("started", source=spider.source.id, type=spider.source.type, started_at=self.started_at)
        self.loop = task.LoopingCall(self.report, spider)
        self.loop.start(self.interval, now=False)

    def response_received(self, response, request, spider):
        # Every page the site answered with, robots.txt and failed attempts aside.
        if not response.url.endswith("/robots.txt") and 200 <= response.status < 300:
            self.crawler.stats.inc_value("newsmon/pages_fetched")

    def counters(self) -> dict[str, int]:
        stats = self.crawler.stats
        return {name: int(stats.get_value(key, 0)) for name, key in COUNTERS.items()}

    def report(self, spider):
        emit("progress", source=spider.source.id, **self.counters())

    def closed(self, spider, reason):
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        stats = self.crawler.stats
        counters = self.counters()
        counters["robots_blocked"] = max(counters["robots_blocked"], int(stats.get_value("robotstxt/forbidden", 0)))
        emit("finished", source=spider.source.id, reason=reason, started_at=self.started_at,
             finished_at=utcnow(), error_samples=stats.get_value("newsmon/error_samples") or [],
             http_statuses={k.rsplit("_", 1)[1]: v for k, v in stats.get_stats().items() if k.startswith("newsmon/http_")},
             retries=int(stats.get_value("retry/count", 0)), **counters)
