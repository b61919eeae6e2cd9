"""The generic spider family: one spider class per source type, all driven by a Source record.

Spiders decide only *what* to fetch: navigation pages (listings, e-paper editions, feeds,
sitemaps — fetched every cycle) and article pages (fetched once: SeenArticleFilter drops the
ones already published). What happens to a fetched article is the item pipelines' job.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import threads
from twisted.internet.error import DNSLookupError, TCPTimedOutError, TimeoutError

from crawler.items import ArticlePage, LinkReport
from crawler.middlewares import ROLE, ROLE_ARTICLE, ROLE_NAV, PrivateAddressBlocked
from crawler.source import LinkRule, Source
from newsmon.schemas import utcnow

# Page furniture that is never an article or a navigation page worth following.
_NEVER = [r"\.(?:jpe?g|png|gif|webp|svg|pdf|docx?|xlsx?|zip|rar|mp3|mp4|apk)(?:$|\?)", r"^javascript:", r"^mailto:"]


class SourceSpider(scrapy.Spider):
    """Base of the family. `dry_run` (newsmon source test): fetch the start pages only and
    report how the rules classify their links, without fetching or publishing articles."""

    name = "source"
    source_type = ""

    def __init__(self, source: Source, *, today: date | None = None, epaper_days: int = 3,
                 dry_run: bool = False, crawl_state=None, **kwargs):
        super().__init__(name=f"{self.source_type}:{source.id}", **kwargs)
        self.source = source
        self.today = today or date.today()
        self.epaper_days = epaper_days
        self.dry_run = dry_run
        self.crawl_state = crawl_state
        self.allowed_domains = list(source.allowed_domains)
        self.article_links = self._extractor(source.link_rules.articles)
        self.follow_links = self._extractor(source.link_rules.follow)
        self.nav_pages = 0

    def _extractor(self, rule: LinkRule) -> LinkExtractor:
        # Domains are checked by host name here (_in_domains), not by LinkExtractor's
        # allow_domains, which compares the host *with* its port and so rejects 127.0.0.1:8765.
        return LinkExtractor(allow=rule.allow, deny=[*rule.deny, *_NEVER], restrict_css=rule.css,
                             restrict_xpaths=rule.xpath, unique=True)

    def is_article_url(self, url: str) -> bool:
        """For feed and sitemap entries: the article rule's regexes and the allowed domains."""
        return self.article_links.matches(url) and _in_domains(url, self.allowed_domains)

    # --- requests ------------------------------------------------------------------------------
    async def start(self):
        for url in self.start_pages():
            yield self.nav_request(url, self.parse_start, start=True)

    def start_pages(self) -> list[str]:
        return self.source.start_pages(self.today, self.epaper_days)

    def nav_request(self, url: str, callback, *, start: bool = False, **meta) -> scrapy.Request | None:
        """A navigation page, re-fetched every cycle; capped by the source's max_pages."""
        if self.nav_pages >= self.source.max_pages:
            self.crawler.stats.inc_value("newsmon/nav_cap_reached")
            return None
        self.nav_pages += 1
        return scrapy.Request(url, callback=callback, errback=self.on_error,
                              meta={ROLE: ROLE_NAV, "newsmon_start": start, **meta})

    def article_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_article, errback=self.on_error, meta={ROLE: ROLE_ARTICLE})

    def parse_start(self, response: Response):
        """Start pages: in a dry run, report the links; otherwise crawl them like any page."""
        if self.dry_run:
            yield from self.report_links(response)
            return
        yield from self.parse_nav(response)

    def parse_nav(self, response: Response):
        raise NotImplementedError

    # --- articles ------------------------------------------------------------------------------
    def parse_article(self, response: Response):
        self.crawler.stats.inc_value("newsmon/article_pages")
        redirects = response.request.meta.get("redirect_urls") or [response.request.url]
        yield ArticlePage(
            source_id=self.source.id,
            url=redirects[0],
            final_url=response.url,
            status=response.status,
            content_type=(response.headers.get(b"Content-Type") or b"").decode("latin-1") or None,
            body=response.body,
            fetched_at=utcnow(),
            truncated="dataloss" in response.flags,
            known_sha256=response.request.meta.get("newsmon_known_sha256"),
        )

    def article_requests(self, urls: Iterable[str]):
        """Article requests for links the article rule accepts (rss/sitemap entries)."""
        for url in urls:
            if self.dry_run:
                continue
            yield self.article_request(url)

    # --- link classification -------------------------------------------------------------------
    def classify(self, response: Response) -> tuple[list[str], list[str]]:
        """(article links, follow links) on an HTML page."""
        domains = self.allowed_domains
        articles = [link.url for link in self.article_links.extract_links(response) if _in_domains(link.url, domains)]
        taken = set(articles)
        follow = [link.url for link in self.follow_links.extract_links(response)
                  if link.url not in taken and _in_domains(link.url, domains)]
        if self.source.link_rules.follow.empty:
            follow = []  # no follow rule: do not wander through every link of the site
        return articles, follow

    def report_links(self, response: Response):
        articles, follow = self.classify(response)
        every = [link.url for link in LinkExtractor(unique=True).extract_links(response)]
        yield from self.link_reports(response.url, articles, follow, every)

    def link_reports(self, page: str, articles: list[str], follow: list[str], every: list[str]):
        for url in articles:
            yield LinkReport(self.source.id, page, url, "article")
        for url in follow:
            yield LinkReport(self.source.id, page, url, "follow")
        taken = set(articles) | set(follow)
        for url in every:
            if url in taken:
                continue
            offsite = not _in_domains(url, self.allowed_domains)
            yield LinkReport(self.source.id, page, url, "ignored", "other domain" if offsite else "no rule matched")

    # --- errors --------------------------------------------------------------------------------
    def on_error(self, failure):
        """Count what went wrong per kind; robots.txt and offsite refusals are not errors."""
        stats = self.crawler.stats
        request = failure.request
        key = request.meta.get("newsmon_key")
        if key and self.crawl_state is not None:  # give the article back: the next cycle retries
            threads.deferToThread(self.crawl_state.release, [key]).addErrback(lambda _f: None)
        if failure.check(HttpError):
            status = failure.value.response.status
            stats.inc_value(f"newsmon/http_{status}")
            if status == 404 and self.source.type == "epaper" and request.meta.get("newsmon_start"):
                stats.inc_value("newsmon/editions_missing")  # no edition that day (Sundays, holidays)
                return
            self.error(f"HTTP {status} {request.url}")
        elif failure.check(PrivateAddressBlocked):
            self.error(str(failure.value))
        elif failure.check(scrapy.exceptions.IgnoreRequest):
            reason = str(failure.value)
            if "robots.txt" in reason.lower() or not reason:
                stats.inc_value("newsmon/robots_blocked")
            else:
                stats.inc_value("newsmon/ignored")
        elif failure.check(DNSLookupError):
            self.error(f"DNS lookup failed {request.url}")
        elif failure.check(TimeoutError, TCPTimedOutError):
            self.error(f"timeout {request.url}")
        else:
            self.error(f"{failure.type.__name__}: {failure.getErrorMessage()} {request.url}")

    def error(self, message: str) -> None:
        stats = self.crawler.stats
        stats.inc_value("newsmon/errors")
        samples = stats.get_value("newsmon/error_samples") or []
        if len(samples) < 10:
            stats.set_value("newsmon/error_samples", [*samples, message[:300]])
        self.logger.warning(message)


def _in_domains(url: str, domains: list[str]) -> bool:
    host = urlsplit(url).hostname or ""
    return any(host == d or host.endswith("." + d) for d in domains)
