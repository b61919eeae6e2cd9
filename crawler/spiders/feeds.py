"""RSS/Atom feeds and sitemaps (including sitemap indexes, gzip sitemaps and Google news
sitemaps): the entries are the article links; a feed or sitemap itself is never an article."""

from __future__ import annotations

from scrapy.http import Response
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawler.spiders.base import SourceSpider


class FeedSpider(SourceSpider):
    name = "rss"
    source_type = "rss"

    def parse_nav(self, response: Response):
        self.crawler.stats.inc_value("newsmon/nav_pages")
        entries = self.entries(response)
        yield from self.article_requests(u for u in entries if self.is_article_url(u))

    def report_links(self, response: Response):
        entries = self.entries(response)
        articles = [u for u in entries if self.is_article_url(u)]
        yield from self.link_reports(response.url, articles, [], entries)

    @staticmethod
    def entries(response: Response) -> list[str]:
        """Entry links of RSS 2.0, RSS 1.0 (RDF) and Atom, in feed order."""
        sel = response.selector
        sel.remove_namespaces()
        links = sel.xpath("//item/link/text()").getall()
        links += sel.xpath("//item[not(link)]/guid[not(@isPermaLink='false')]/text()").getall()
        links += sel.xpath("//entry/link[not(@rel) or @rel='alternate']/@href").getall()
        return list(dict.fromkeys(response.urljoin(u.strip()) for u in links if u.strip()))


class SitemapSpider(SourceSpider):
    """Start URLs may be a sitemap, a sitemap index or robots.txt (its Sitemap: lines). Parsing
    is Scrapy's own sitemap machinery (scrapy.utils.sitemap), with its size limits."""

    name = "sitemap"
    source_type = "sitemap"

    def parse_nav(self, response: Response):
        self.crawler.stats.inc_value("newsmon/nav_pages")
        children, entries = self.read(response)
        for url in children:
            request = self.nav_request(url, self.parse_nav)
            if request is not None:
                yield request
        yield from self.article_requests(u for u in entries if self.is_article_url(u))

    def report_links(self, response: Response):
        children, entries = self.read(response)
        articles = [u for u in entries if self.is_article_url(u)]
        yield from self.link_reports(response.url, articles, children, entries)

    def read(self, response: Response) -> tuple[list[str], list[str]]:
        """(child sitemaps, page URLs)."""
        if response.url.endswith("/robots.txt"):
            return list(sitemap_urls_from_robots(response.body, base_url=response.url)), []
        body = self._body(response)
        if body is None:
            self.error(f"not a sitemap: {response.url}")
            return [], []
        sitemap = Sitemap(body)
        locs = [entry["loc"] for entry in sitemap if entry.get("loc")]
        follow = self.source.link_rules.follow
        if sitemap.type == "sitemapindex":
            return [u for u in locs if follow.empty or self.follow_links.matches(u)], []
        if sitemap.type == "urlset":
            return [], locs
        self.error(f"unknown sitemap type {sitemap.type!r}: {response.url}")
        return [], []

    def _body(self, response: Response) -> bytes | None:
        body = response.body
        if gzip_magic_number(response):
            max_size = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
            try:
                body = gunzip(body, max_size=max_size)
            except Exception:  # corrupt or over the size limit
                return None
        return body if body.lstrip()[:1] == b"<" else None
