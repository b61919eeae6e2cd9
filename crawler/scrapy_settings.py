"""Scrapy settings derived from the one newsmon Settings object (NEWSMON_* variables).

Politeness and robustness are Scrapy's own middlewares, configured here: RobotsTxt, AutoThrottle
with a per-domain delay and concurrency, Retry (replaced by a subclass that adds backoff and
Retry-After), Redirect (each hop re-checked by the offsite and private-network middlewares),
HttpCompression, DownloadTimeout, and size limits.
"""

from __future__ import annotations

from typing import Any

from newsmon.settings import Settings


def scrapy_settings(settings: Settings, *, dry_run: bool = False) -> dict[str, Any]:
    delay = settings.crawl_delay
    return {
        "NEWSMON_SETTINGS": settings,
        "NEWSMON_ALLOW_PRIVATE_NETWORKS": settings.crawl_allow_private_networks,
        "NEWSMON_MAX_PAGE_BYTES": settings.crawl_max_page_bytes,
        "NEWSMON_RETRY_BACKOFF_BASE": max(0.5, delay),
        "NEWSMON_PROGRESS_INTERVAL": 0.5,
        "BOT_NAME": "newsmon",
        "USER_AGENT": settings.crawler_user_agent,
        "ROBOTSTXT_OBEY": settings.crawl_obey_robots,
        "ROBOTSTXT_USER_AGENT": "newsmon",
        # Politeness: one delay and concurrency per domain; AutoThrottle adapts the delay to the
        # server's latency but never goes below DOWNLOAD_DELAY.
        "DOWNLOAD_DELAY": delay,
        "DOWNLOAD_DELAY_JITTER": 0.5 if delay > 0 else 0,
        "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.crawl_concurrency_per_domain,
        "AUTOTHROTTLE_ENABLED": settings.crawl_autothrottle and delay > 0,
        "AUTOTHROTTLE_START_DELAY": max(delay, 0.1),
        "AUTOTHROTTLE_MAX_DELAY": max(30.0, delay * 10),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(settings.crawl_concurrency_per_domain),
        "DOWNLOAD_TIMEOUT": settings.crawl_timeout,
        # Over the page cap a page is kept truncated (RawPagePipeline); far over it the download is
        # abandoned rather than buffered in memory.
        "DOWNLOAD_WARNSIZE": settings.crawl_max_page_bytes,
        "DOWNLOAD_MAXSIZE": settings.crawl_max_page_bytes * 4,
        "DOWNLOAD_FAIL_ON_DATALOSS": False,  # keep what arrived, flagged `dataloss` -> truncated
        "RETRY_ENABLED": True,
        "RETRY_TIMES": settings.crawl_retries,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "REDIRECT_ENABLED": True,
        "REDIRECT_MAX_TIMES": 5,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": settings.log_level if settings.log_level != "INFO" else "WARNING",
        "LOGSTATS_INTERVAL": 0,
        "LOG_INSTALL_ROOT_HANDLER": True,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.PrivateNetworkGuard": 50,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.BackoffRetryMiddleware": 550,
        },
        "SPIDER_MIDDLEWARES": {
            "crawler.middlewares.SeenArticleFilter": 950,  # closest to the spider: sees its raw output
        },
        "ITEM_PIPELINES": (
            {"crawler.pipelines.LinkReportPipeline": 100} if dry_run else
            {"crawler.pipelines.RawPagePipeline": 300, "crawler.pipelines.KafkaPipeline": 800}
        ),
        "EXTENSIONS": {"crawler.extensions.ProgressReporter": 500},
    }
