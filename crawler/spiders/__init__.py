"""The generic spider family, one class per source type (see crawler.spiders.base)."""

from crawler.spiders.base import SourceSpider
from crawler.spiders.feeds import FeedSpider, SitemapSpider
from crawler.spiders.listing import EpaperSpider, ListingSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    "listing": ListingSpider,
    "epaper": EpaperSpider,
    "rss": FeedSpider,
    "sitemap": SitemapSpider,
}

__all__ = ["SPIDERS", "EpaperSpider", "FeedSpider", "ListingSpider", "SitemapSpider", "SourceSpider"]
