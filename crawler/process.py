"""One crawl cycle in its own process: `python -m crawler.process` (used by crawler.runner).

Input (stdin): a JSON job {"sources": [...], "today": "YYYY-MM-DD"|null, "dry_run": bool}.
Output (stdout): JSON-lines events (crawler.events); logs go to stderr. Settings come from the
NEWSMON_* environment the runner passes. All sources of a job run concurrently in one Twisted
reactor, one Scrapy crawler (own stats, own politeness slots) per source.
"""

from __future__ import annotations

import json
import sys
from datetime import date

from scrapy.crawler import CrawlerProcess

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
    for source in sources:
        process.crawl(SPIDERS[source.type], source=source, today=today, epaper_days=settings.epaper_days,
                      dry_run=dry_run, crawl_state=state)
    process.start()
    events.emit("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
