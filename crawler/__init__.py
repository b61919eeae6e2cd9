"""Scrapy project: spiders (what to fetch), item pipelines (what to do with it).

- source.py / registry.py: source definitions, validated once, stored in `newsmon-sources`.
- spiders/: one generic spider family (listing, epaper, rss/Atom, sitemap) driven by a source.
- middlewares.py: private-network guard, retry with backoff and Retry-After, seen-URL filter.
- pipelines.py: decode (charset detection) -> Kafka `newsmon.raw-pages` -> crawl state.
- state.py: published canonical URLs in `newsmon-crawl-state`, shared by every crawler host.
- runner.py / process.py: each crawl cycle in a child process; events back as JSON lines.
- scheduler.py / worker.py: `newsmon.crawl-requests` keyed by source, one consumer group.
- demo_site.py: the fixture news site (tests/fixtures/site) served on 127.0.0.1.
"""
