"""Listing pages (section front pages) with pagination, and e-paper editions."""

from __future__ import annotations

from scrapy.http import Response

from crawler.spiders.base import SourceSpider


class ListingSpider(SourceSpider):
    """A section page lists articles and links to its next pages; the follow rule says which
    links are pagination (bounded by the source's max_pages)."""

    name = "listing"
    source_type = "listing"

    def parse_nav(self, response: Response):
        self.crawler.stats.inc_value("newsmon/nav_pages")
        articles, follow = self.classify(response)
        yield from self.article_requests(articles)
        for url in follow:
            request = self.nav_request(url, self.parse_nav, **self.nav_meta(response))
            if request is not None:
                yield request

    def nav_meta(self, response: Response) -> dict:
        return {}


class EpaperSpider(ListingSpider):
    """An e-paper edition: the start URL template, filled with today's and the previous days'
    dates, gives each edition's first page (版面); its other pages are followed, but only within
    the same edition (same directory), so date navigation never walks into the archive."""

    name = "epaper"
    source_type = "epaper"

    def classify(self, response: Response) -> tuple[list[str], list[str]]:
        articles, follow = super().classify(response)
        edition = response.meta.get("newsmon_edition") or response.url.rsplit("/", 1)[0] + "/"
        return articles, [u for u in follow if u.startswith(edition)]

    def nav_meta(self, response: Response) -> dict:
        return {"newsmon_edition": response.meta.get("newsmon_edition") or response.url.rsplit("/", 1)[0] + "/"}
