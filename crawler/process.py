"""One crawl cycle in its own process: `python -m crawler.process` (used by crawler.runner).

Input (stdin): a JSON job {"sources": [...], "today": "YYYY-MM-DD"|null, "dry_run": bool}.
Output (stdout): JSON-lines events (crawler.events); logs go to stderr. Settings come from the
NEWSMON_* environment the runner passes. All sources of a job run concurrently in one Twisted
reactor, one Scrapy crawler (own stats) per source — except that sources sharing a domain run
one after the other: Scrapy's per-domain delay and concurrency live in each crawler's own
downloader, so two crawlers on one site at once would double the load the site sees.
"""

from __future__ import annotations

import json
import sys
from datetime import date

from scrapy.crawler import CrawlerProcess
from twisted.internet import defer

from crawler import events
from crawler.scrapy_settings import scrapy_settings
from crawler.source import Source
from crawler.spiders import SPIDERS
from crawler.state import CrawlState
from newsmon.settings import load_settings


def main() -> int:
    stream = sys.stdout
    sys.stdout = sys.stderr  # a stray print must not corrupt the event stream
    events.set_stream(stream)
    job = json.load(sys.stdin)
    settings = load_settings()
    sources = [Source.model_validate(s) for s in job["sources"]]
    today = date.fromisoformat(job["today"]) if job.get("today") else None
    dry_run = bool(job.get("dry_run"))
    state = None
    try:
        state = CrawlState(settings)
        state.ensure_index()
    except Exception as exc:
        if not dry_run:  # without the shared state a crawl would re-publish everything
            events.emit("fatal", error=f"crawl state unavailable: {exc}")
            return 2
        state = None  # `source test` works without Elasticsearch; it just cannot say "seen"
    process = CrawlerProcess(scrapy_settings(settings, dry_run=dry_run))

    @defer.inlineCallbacks
    def crawl_in_turn(group: list[Source]):
        for source in group:
            try:
                yield process.crawl(SPIDERS[source.type], source=source, today=today,
                                    epaper_days=settings.epaper_days, dry_run=dry_run, crawl_state=state)
            except Exception as exc:  # the runner reports this source as failed; the group goes on
                events.emit("crawler_error", source=source.id, error=f"{type(exc).__name__}: {exc}")

    # Each chain's first crawler is created right here, which installs Scrapy's reactor.
    everything = defer.DeferredList([crawl_in_turn(g) for g in same_site_groups(sources)], consumeErrors=True)
    from twisted.internet import reactor

    everything.addBoth(lambda _: reactor.stop())
    process.start(stop_after_crawl=False)
    events.emit("done")
    return 0


def same_site_groups(sources: list[Source]) -> list[list[Source]]:
    """Sources whose allowed domains overlap (by host name, ignoring a leading www.), grouped
    in their given order; groups are disjoint, so they may be crawled at the same time."""
    parent = list(range(len(sources)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, source in enumerate(sources):
        for domain in source.allowed_domains:
            host = domain.removeprefix("www.")
            if host in owner:
                parent[find(i)] = find(owner[host])
            else:
                owner[host] = i
    groups: dict[int, list[Source]] = {}
    for i, source in enumerate(sources):
        groups.setdefault(find(i), []).append(source)
    return list(groups.values())


if __name__ == "__main__":
    sys.exit(main())
