"""Crawler pages/min against the fixture news site with politeness off, and its peak memory.

The site runs in a child process (`newsmon demo-site` on a free 127.0.0.1 port, its slow page not
slowed); its sources (listing, e-paper, RSS, Atom, sitemap) are imported with `newsmon source
import`, then `newsmon crawl --all --once` runs as a user would start it, with
NEWSMON_CRAWL_DELAY=0 (no per-domain delay, AutoThrottle off; the per-domain concurrency stays at
its default). Pages are counted from what arrived on `newsmon.raw-pages`, not from the crawler's
own report. The site's deliberate faults still cost what they cost a real crawl: a 500 and a 429
(Retry-After: 1 s) retried with backoff.

Two rates: over the whole command (CLI and crawl-process start-up, Elasticsearch and Kafka
clients, outcome records) and over the crawl proper, from the first source's start to the last
source's end as the crawl reports them (robots.txt, listings, feeds, sources on one site in turn).
The fixture site has only a few dozen articles, so the first is dominated by fixed costs.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

from benchmarks.common import Context, ProcessWatch, child, newsmon_command, row, wait_until
from crawler.demo_site import fixture_sources_yaml
from newsmon.kafka import read_topic
from newsmon.mailcatcher import free_port
from newsmon.settings import TOPIC_RAW_PAGES


def _site_up(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _crawl_seconds(log) -> float:
    """From the first `started` to the last `finished` event of the crawl's JSON-lines report."""
    starts, ends = [], []
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            ev = json.loads(line)
            if ev.get("event") == "started":
                starts.append(datetime.fromisoformat(ev["started_at"]))
            elif ev.get("event") == "finished":
                ends.append(datetime.fromisoformat(ev["finished_at"]))
    if not starts or not ends:
        raise RuntimeError("the crawl reported no started/finished events")
    return max((max(ends) - min(starts)).total_seconds(), 1e-3)


def run(ctx: Context) -> list[dict]:
    s = ctx.sub("crawl").model_copy(update={"crawl_delay": 0.0, "crawl_allow_private_networks": True})
    env = ctx.env(s)
    port = free_port()
    sources = ctx.workdir / "fixture-sources.yaml"
    sources.write_text(fixture_sources_yaml(f"http://127.0.0.1:{port}"), encoding="utf-8")
    with child(newsmon_command("demo-site", "--port", str(port), "--slow", "0"), env, ctx.workdir / "site.log") as site:
        if not wait_until(lambda: _site_up(port) or site.poll() is not None, 60) or site.poll() is not None:
            raise RuntimeError(f"the fixture site did not start: {(ctx.workdir / 'site.log').read_text()[-500:]}")
        with child(newsmon_command("source", "import", str(sources)), env, ctx.workdir / "import.log") as imp:
            if imp.wait(timeout=120) != 0:
                raise RuntimeError(f"source import failed: {(ctx.workdir / 'import.log').read_text()[-500:]}")
        log = ctx.workdir / "crawl.log"
        with ProcessWatch() as memory:
            started = time.time()
            with child(newsmon_command("crawl", "--all", "--once", "--json"), env, log) as crawl:
                memory.watch("crawler", crawl.pid)
                code = crawl.wait(timeout=600)
            elapsed = time.time() - started
    summary = next((json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()
                    if line.startswith("{") and '"summary"' in line), {}).get("sources", {})
    if code != 0 or not summary:
        raise RuntimeError(f"crawl failed (exit {code}): {log.read_text(encoding='utf-8')[-800:]}")
    records = read_topic(s, TOPIC_RAW_PAGES)
    if not records:
        raise RuntimeError("the crawl published nothing on newsmon.raw-pages")
    fetched = sum(o["pages"] for o in summary.values())
    crawl_span = _crawl_seconds(log)
    ctx.memory["crawler"] = memory.peaks_mb.get("crawler", 0.0)
    return [
        row("crawler", "crawl, whole command (delay 0)", len(records) / elapsed * 60, "pages/min",
            f"{len(records)} pages published from {fetched} fetches in {elapsed:.1f} s, {len(summary)} sources "
            f"on one site, process start-up included", published=len(records), fetches=fetched,
            seconds=elapsed, sources=len(summary)),
        row("crawler", "crawl proper (delay 0)", len(records) / crawl_span * 60, "pages/min",
            f"{crawl_span:.1f} s from the first source's start to the last one's end; "
            f"{fetched / len(records):.2f} fetches per published page", seconds=crawl_span),
    ]
