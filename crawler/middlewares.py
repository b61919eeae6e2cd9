"""Downloader and spider middlewares the stock Scrapy set lacks.

- PrivateNetworkGuard: refuse loopback/private/link-local targets after DNS resolution (SSRF
  guard: a source, or a redirect, must not make the crawler fetch internal services).
- BackoffRetryMiddleware: Scrapy's RetryMiddleware, plus exponential backoff and Retry-After.
- SeenArticleFilter: drop article requests whose URL was already published (shared ES state).
"""

from __future__ import annotations

import ipaddress
import logging
import random
import socket
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet import task, threads

from crawler.canonical import canonical_key
from crawler.items import LinkReport
from newsmon.schemas import utcnow

log = logging.getLogger(__name__)

ROLE = "newsmon_role"          # request meta: "nav" (listing, edition, feed, sitemap) or "article"
ROLE_ARTICLE = "article"
ROLE_NAV = "nav"


class PrivateAddressBlocked(IgnoreRequest):
    """The target is not an http(s) URL, or resolves to an address the crawler must not reach."""


def _forbidden(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped   # ::ffff:127.0.0.1 is 127.0.0.1
    return not addr.is_global or addr.is_multicast


def _resolve(host: str) -> list[str]:
    return [sockaddr[0] for *_, sockaddr in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]


class PrivateNetworkGuard:
    """Runs before every download, including robots.txt and each redirect hop, because Scrapy
    sends those through the whole middleware chain again. Refuses any scheme but http(s), and any
    host that resolves to a loopback, private, link-local, reserved or multicast address — unless
    the crawl allows private networks (tests and the demo site: NEWSMON_CRAWL_ALLOW_PRIVATE_NETWORKS)
    or the source does (`allow_private_network`, an intranet outlet: only the hosts of its start
    URLs, so a link or redirect to another name is still checked). Resolution is cached per host for the crawl, so a host
    cannot answer differently between the check and the download."""

    def __init__(self, allow_private: bool, stats, resolve=_resolve):
        self.allow_private = allow_private
        self.stats = stats
        self.resolve = resolve
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler):
        guard = cls(crawler.settings.getbool("NEWSMON_ALLOW_PRIVATE_NETWORKS"), crawler.stats)
        guard.crawler = crawler
        return guard

    async def process_request(self, request: Request, spider=None):
        spider = spider or getattr(getattr(self, "crawler", None), "spider", None)
        source = getattr(spider, "source", None)
        reason = await maybe_deferred_to_future(threads.deferToThread(self.verdict, request.url, source))
        if reason:
            self.stats.inc_value("newsmon/private_blocked")
            raise PrivateAddressBlocked(f"refused {request.url[:200]}: {reason}")
        return None

    def verdict(self, url: str, source=None) -> str | None:
        """Why `url` must not be fetched for `source`, or None. Blocking (DNS): call off the reactor."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            return f"scheme {parts.scheme or '(none)'!r} is not http or https"
        host = (parts.hostname or "").rstrip(".")
        if not host:
            return "no host"
        if self.allow_private or _source_allows(source, host):
            return None
        if host not in self._verdicts:
            self._verdicts[host] = self._check(host)
        return self._verdicts[host]

    def _check(self, host: str) -> str | None:
        try:
            addresses = self.resolve(host)
        except OSError:
            return None  # unresolvable: let the download report the DNS error itself
        for ip in addresses:
            if _forbidden(ip):
                return f"{host} resolves to non-public address {ip}"
        return None


def _source_allows(source, host: str) -> bool:
    """Only the hosts the analyst named in the start URLs: a link or redirect to any other name,
    even inside the allowed domains, is checked like everywhere else."""
    if source is None or not getattr(source, "allow_private_network", False):
        return False
    return host in {(urlsplit(u).hostname or "").rstrip(".") for u in source.start_urls}


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry 5xx/429 and network errors with exponential backoff (base * 2^n, jittered); a
    Retry-After header (seconds or HTTP date) is honoured up to RETRY_AFTER_MAX, beyond which the
    server is taken at its word and the page is given up for this cycle."""

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("NEWSMON_RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("NEWSMON_RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("NEWSMON_RETRY_AFTER_MAX", 120.0)

    async def process_response(self, request, response, spider=None):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = self._retry_after(response)
        if wait is not None and wait > self.retry_after_max:
            return response
        retry = self._retry_request(request, response_status_message(response.status))
        if retry is None:
            return response
        await self._sleep(wait if wait is not None else self._backoff(request))
        return retry

    async def process_exception(self, request, exception, spider=None):
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self._retry_request(request, exception)
        if retry is not None:
            await self._sleep(self._backoff(request))
        return retry

    def _retry_request(self, request, reason):
        return get_retry_request(
            request, spider=self.crawler.spider, reason=reason,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
            give_up_log_level=request.meta.get("give_up_log_level", self.give_up_log_level))

    def _backoff(self, request) -> float:
        n = request.meta.get("retry_times", 0)
        delay = min(self.cap, self.base * (2 ** n))
        return delay * random.uniform(0.75, 1.25)

    @staticmethod
    def _retry_after(response) -> float | None:
        value = response.headers.get(b"Retry-After")
        if not value:
            return None
        text = value.decode("latin-1").strip()
        if text.isdigit():
            return float(text)
        try:
            return max(0.0, (parsedate_to_datetime(text) - utcnow()).total_seconds())
        except (TypeError, ValueError):
            return None

    @staticmethod
    async def _sleep(seconds: float) -> None:
        if seconds > 0:
            from twisted.internet import reactor  # imported late: Scrapy installs its reactor first

            await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))


class SeenArticleFilter:
    """Spider middleware: article links already published are not fetched again.

    Spiders only say what to fetch; this middleware makes every spider type incremental. It
    collects the article requests of one callback, de-duplicates them by canonical URL within
    the crawl, asks the shared state about all of them in one round trip (in a thread: the
    reactor must not block on Elasticsearch), claims the new ones — plus, under a source's
    refresh policy, published ones old enough to be checked for changes — and lets through
    those this process got.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.state = None
        # Links met earlier in this crawl (pages of one listing repeat links). Across crawlers
        # and processes, the claims in the shared state keep an article from being fetched twice.
        self.scheduled: set[str] = set()
        # Claims this crawl took. A crawl stopped early (SIGTERM from `newsmon run`) gives back
        # those it did not publish when the spider closes, so the next crawl — on any host —
        # fetches them at once instead of skipping them until the claims' lease runs out.
        self.claimed: set[str] = set()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        self.state = getattr(spider, "crawl_state", None)

    def spider_closed(self, spider, reason):
        # Runs after the item pipelines closed, i.e. after every acknowledged page was recorded
        # (recording deletes its claim), so what is still ours was never published.
        if self.state is None or not self.claimed:
            return None
        keys, self.claimed = sorted(self.claimed), set()
        return threads.deferToThread(self.state.release_own, keys).addErrback(lambda _f: None)

    async def process_spider_output(self, response, result, spider=None):
        spider = spider or self.crawler.spider
        held: list[tuple[str, Request]] = []
        reports: list[LinkReport] = []
        async for obj in result:
            if isinstance(obj, Request) and obj.meta.get(ROLE) == ROLE_ARTICLE:
                key = canonical_key(obj.url)
                if key in self.scheduled:
                    self.stats.inc_value("newsmon/duplicate_links")
                    continue
                self.scheduled.add(key)
                held.append((key, obj))
            elif isinstance(obj, LinkReport) and obj.verdict == "article":
                reports.append(obj)
            else:
                yield obj
        keys = [k for k, _ in held] + [canonical_key(r.url) for r in reports]
        known = await self._lookup(keys) if keys and self.state is not None else {}
        for report in reports:
            report.seen = canonical_key(report.url) in known if self.state is not None else None
            yield report
        refresh_after = spider.source.refresh_after
        now = utcnow()
        wanted: list[tuple[str, Request]] = []
        for key, request in held:
            doc = known.get(key)
            if doc is None:
                wanted.append((key, request))
            elif refresh_after and _age_seconds(doc.get("last_published_at"), now) >= refresh_after:
                request.meta["newsmon_known_sha256"] = doc.get("sha256")
                wanted.append((key, request))
            else:
                self.stats.inc_value("newsmon/skipped_seen")
        claimed = await self._claim([k for k, _ in wanted]) if wanted and self.state is not None else set()
        self.claimed |= claimed
        for key, request in wanted:
            if self.state is not None and key not in claimed:
                self.stats.inc_value("newsmon/claimed_elsewhere")  # another crawler is fetching it now
                continue
            request.meta["newsmon_key"] = key
            self.stats.inc_value("newsmon/articles_refreshed" if "newsmon_known_sha256" in request.meta
                                 else "newsmon/articles_new")
            yield request

    async def _lookup(self, keys: list[str]) -> dict:
        return await maybe_deferred_to_future(threads.deferToThread(self.state.lookup, keys))

    async def _claim(self, keys: list[str]) -> set[str]:
        return await maybe_deferred_to_future(threads.deferToThread(self.state.claim, keys))


def _age_seconds(stamp: str | None, now) -> float:
    if not stamp:
        return float("inf")
    return (now - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds()
