"""`newsmon crawl`, `newsmon schedule` and `newsmon demo-site`: running the crawler."""

from __future__ import annotations

import json
import time
from datetime import date

import typer
from rich.live import Live
from rich.table import Table

from newsmon.cli import CliError
from newsmon.cli._common import console, err_console, parse_date, settings

_COLUMNS = ("pages", "articles_new", "published", "skipped_seen", "errors")
_HEADERS = {"pages": "pages", "articles_new": "new", "published": "published", "skipped_seen": "seen", "errors": "errors"}


def _table(rows: dict[str, dict], title: str) -> Table:
    table = Table(title=title)
    table.add_column("source")
    table.add_column("status")
    for col in _COLUMNS:
        table.add_column(_HEADERS[col], justify="right")
    table.add_column("first error", overflow="fold", max_width=60)
    for sid, row in rows.items():
        status = row.get("status", "running")
        colour = {"ok": "green", "partial": "yellow", "failed": "red"}.get(status, "cyan")
        samples = row.get("error_samples") or []
        table.add_row(sid, f"[{colour}]{status}[/]", *(str(row.get(c, 0)) for c in _COLUMNS),
                      samples[0] if samples else "")
    return table


def _parse_every(every: str | None) -> int | None:
    from crawler.source import parse_duration

    if every is None:
        return None
    try:
        return parse_duration(every)
    except ValueError as exc:
        raise CliError(f"--every: {exc}") from None




def _registry():
    from elastic_transport import ConnectionError as EsConnectionError

    from crawler.registry import SourceRegistry

    s = settings()
    registry = SourceRegistry(s)
    try:
        registry.ensure_index()
    except EsConnectionError:
        raise CliError(f"cannot reach Elasticsearch at {s.es_url_shown} (start it with: newsmon stack up)") from None
    return registry


def _crawl_cycle(registry, source_ids: list[str], crawl_all: bool, today: date | None, as_json: bool) -> bool:
    """One crawl of the chosen sources with a live display; True if no source failed entirely."""
    from crawler.runner import record_outcomes, run_crawl
    from crawler.source import SourceError

    try:
        sources = registry.many(source_ids) if source_ids else registry.all(enabled_only=True)
    except SourceError as exc:
        raise CliError(str(exc)) from None
    if not sources:
        raise CliError("no enabled sources (add some: newsmon source add --help)" if crawl_all else "no sources")
    rows: dict[str, dict] = {s.id: {} for s in sources}
    s = settings()

    if as_json:
        def on_event(ev):
            if ev["event"] != "published":
                print(json.dumps(ev, ensure_ascii=False), flush=True)
        run = run_crawl(s, sources, today=today, on_event=on_event)
    else:
        with Live(_table(rows, "crawling"), console=err_console, refresh_per_second=4, transient=True) as live:
            def on_event(ev):
                sid = ev.get("source")
                if sid in rows and ev["event"] in ("progress", "finished", "started"):
                    rows[sid].update({k: v for k, v in ev.items() if k in _COLUMNS})
                    live.update(_table(rows, "crawling"))
            run = run_crawl(s, sources, today=today, on_event=on_event)
    record_outcomes(registry, run)
    summary = {sid: {"status": o.status, "pages": o.pages, "articles_new": o.articles_new, "published": o.published,
                     "skipped_seen": o.skipped_seen, "errors": o.errors, "error_samples": o.error_samples}
               for sid, o in run.outcomes.items()}
    if as_json:
        print(json.dumps({"event": "summary", "sources": summary}, ensure_ascii=False), flush=True)
    else:
        console.print(_table(summary, "crawl summary"))
        if run.fatal:
            err_console.print(f"[red]{run.fatal}[/]")
    return not run.failed


def crawl(
    source_ids: list[str] = typer.Option(None, "--source", "-s", help="Source id to crawl (repeat)."),
    crawl_all: bool = typer.Option(False, "--all", help="Crawl every enabled source."),
    once: bool = typer.Option(False, "--once", help="One crawl cycle, then exit (the default)."),
    every: str | None = typer.Option(None, "--every", help="Crawl again at this interval (e.g. 15m) until Ctrl-C."),
    worker: bool = typer.Option(False, "--worker", help="Serve crawl requests from Kafka (see: newsmon schedule)."),
    idle_exit: float | None = typer.Option(None, "--idle-exit", help="Worker: exit after this many idle seconds."),
    day: str | None = typer.Option(None, "--date", help="Treat this date (YYYY-MM-DD) as today for e-papers."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON-lines events and summary instead of tables."),
) -> None:
    """Fetch new articles politely and publish every raw page to Kafka (newsmon.raw-pages).

    Exit code 1 if a source failed entirely. Example: newsmon crawl --all --every 15m
    """
    if worker:
        if source_ids or crawl_all or every:
            raise CliError("--worker takes its sources from Kafka: drop --source/--all/--every")
        return _worker(idle_exit, as_json)
    if not source_ids and not crawl_all:
        raise CliError("say what to crawl: --source ID (repeatable) or --all")
    if source_ids and crawl_all:
        raise CliError("give either --source or --all, not both")
    if once and every:
        raise CliError("give either --once or --every, not both")
    interval = _parse_every(every)
    today = parse_date(day)
    registry = _registry()
    if interval is None:
        if not _crawl_cycle(registry, source_ids or [], crawl_all, today, as_json):
            raise typer.Exit(1)
        return
    while True:  # --every: each cycle is a fresh crawl process (crawler.runner explains why)
        started = time.monotonic()
        _crawl_cycle(registry, source_ids or [], crawl_all, today, as_json)
        pause = max(0.0, interval - (time.monotonic() - started))
        err_console.print(f"next crawl in {pause:.0f}s (Ctrl-C to stop)")
        time.sleep(pause)


def _worker(idle_exit: float | None, as_json: bool) -> None:
    from crawler.worker import run_worker, worker_name

    s = settings()
    name = worker_name()

    def on_assign(parts):
        msg = {"event": "assigned", "worker": name, "partitions": parts}
        if as_json:
            print(json.dumps(msg), flush=True)
        else:
            err_console.print(f"worker {name}: partitions {parts}")

    def on_crawl(run, ids):
        if as_json:
            for sid, o in run.outcomes.items():
                print(json.dumps({"event": "crawled", "worker": name, "source": sid, "status": o.status,
                                  "pages": o.pages, "published": o.published, "errors": o.errors,
                                  "started_at": o.started_at, "finished_at": o.finished_at},
                                 ensure_ascii=False, default=str), flush=True)
        else:
            rows = {sid: {"status": o.status, "pages": o.pages, "articles_new": o.articles_new,
                          "published": o.published, "skipped_seen": o.skipped_seen, "errors": o.errors,
                          "error_samples": o.error_samples} for sid, o in run.outcomes.items()}
            console.print(_table(rows, f"worker {name}"))

    if not as_json:
        err_console.print(f"worker {name} waiting for crawl requests (Ctrl-C to stop)")
    done = run_worker(s, idle_exit=idle_exit, on_crawl=on_crawl, on_assign=on_assign)
    if as_json:
        print(json.dumps({"event": "stopped", "worker": name, "crawls": done}), flush=True)
    else:
        err_console.print(f"worker {name}: {done} crawls")


def schedule(
    once: bool = typer.Option(False, "--once", help="Request the due sources once, then exit (the default)."),
    every: str | None = typer.Option(None, "--every", help="Check for due sources at this interval (e.g. 1m)."),
    force: bool = typer.Option(False, "--force", help="Request every enabled source, due or not."),
) -> None:
    """Put a crawl request on Kafka (newsmon.crawl-requests, keyed by source) for each due source.

    Workers (newsmon crawl --worker) in one consumer group share them. Example: newsmon schedule --every 1m
    """
    from crawler.scheduler import schedule_due

    if once and every:
        raise CliError("give either --once or --every, not both")
    interval = _parse_every(every)
    registry = _registry()
    while True:
        sent = schedule_due(settings(), registry, force=force)
        if settings().log_format == "json":   # under `newsmon run`: keep the log file JSON lines
            print(json.dumps({"event": "scheduled", "requests": sent}, ensure_ascii=False), flush=True)
        else:
            console.print(f"requested {len(sent)} crawl(s)"
                          + (f": {', '.join(r['source_id'] for r in sent)}" if sent else ""))
        if interval is None:
            return
        time.sleep(interval)


def demo_site(
    port: int | None = typer.Option(None, "--port", help="Port on 127.0.0.1 (default: NEWSMON_DEMO_SITE_PORT, 8765)."),
    slow: float = typer.Option(1.5, "--slow", help="Seconds the slow page takes."),
) -> None:
    """Serve the fixture news site 滨江日报 on 127.0.0.1 for the demo and manual tries.

    Example: newsmon demo-site & newsmon source import tests/fixtures/site/sources.yaml
    """
    from crawler.demo_site import FixtureSite

    chosen = port if port is not None else settings().demo_site_port
    try:
        site = FixtureSite(port=chosen, slow_seconds=slow)
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot listen on 127.0.0.1:{chosen}: {exc.strerror}") from None
    console.print(f"serving the fixture site on {site.base_url} (Ctrl-C to stop); "
                  f"crawl it with NEWSMON_CRAWL_ALLOW_PRIVATE_NETWORKS=1")
    try:
        site.serve_forever()
    finally:
        site.server.server_close()


def register(app: typer.Typer) -> None:
    app.command("crawl")(crawl)
    app.command("schedule")(schedule)
    app.command("demo-site")(demo_site)
