"""Run crawl cycles from a long-lived process (CLI, scheduler loop, worker) and collect results.

Each cycle is a fresh child process (`python -m crawler.process`), by choice: Twisted's reactor
cannot be restarted in one process, and a child per cycle also gives each cycle a clean memory
footprint, lets a worker stay responsive to Kafka (heartbeats, rebalances) while it waits, and
keeps one crashed crawl from taking the worker or the `--every` loop down with it. The cost is
about a second of start-up per cycle, which is nothing next to a crawl's politeness delays.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from crawler import events
from crawler.source import CrawlResult, Source
from newsmon.schemas import utcnow
from newsmon.settings import Settings

EventHandler = Callable[[dict[str, Any]], None]
_REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class SourceOutcome:
    source_id: str
    status: str = "failed"          # ok | partial | failed
    pages: int = 0
    articles_new: int = 0
    published: int = 0
    skipped_seen: int = 0
    not_modified: int = 0
    robots_blocked: int = 0
    errors: int = 0
    retries: int = 0
    error_samples: list[str] = field(default_factory=list)
    http_statuses: dict[str, int] = field(default_factory=dict)
    published_urls: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    finished: bool = False
    crawler_failed: bool = False

    def apply(self, ev: dict[str, Any]) -> None:
        for name in ("pages", "articles_new", "published", "skipped_seen", "not_modified", "robots_blocked",
                     "errors", "retries"):
            if name in ev:
                setattr(self, name, int(ev[name]))
        if ev["event"] == "started":
            self.started_at = _when(ev.get("started_at"))
        if ev["event"] == "crawler_error":  # the crawler could not run (e.g. Kafka unreachable)
            self.errors += 1
            self.error_samples.insert(0, str(ev.get("error", "crawler failed")))
            self.status = "failed"
            self.crawler_failed = True
            return
        if ev["event"] == "finished":
            self.finished = True
            self.finished_at = _when(ev.get("finished_at"))
            self.error_samples = [*self.error_samples, *(ev.get("error_samples") or [])]
            self.http_statuses = dict(ev.get("http_statuses") or {})
            self.status = "failed" if self.crawler_failed else self.judge()

    def judge(self) -> str:
        """failed: nothing could be fetched at all; partial: some errors; ok: none."""
        if self.pages == 0:
            return "failed"
        return "partial" if self.errors else "ok"

    def result(self, worker: str | None = None) -> CrawlResult:
        return CrawlResult(status=self.status, started_at=self.started_at, finished_at=self.finished_at,
                           pages=self.pages, articles_new=self.articles_new, published=self.published,
                           skipped_seen=self.skipped_seen, not_modified=self.not_modified,
                           robots_blocked=self.robots_blocked, errors=self.errors,
                           error_samples=self.error_samples[:10], worker=worker)


@dataclass
class CrawlRun:
    outcomes: dict[str, SourceOutcome]
    links: list[dict[str, Any]]
    returncode: int
    stderr_tail: str
    fatal: str | None = None

    @property
    def failed(self) -> list[str]:
        return [sid for sid, o in self.outcomes.items() if o.status == "failed"]


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def settings_env(settings: Settings) -> dict[str, str]:
    """The process environment with NEWSMON_* replaced by exactly these settings, so a child
    process sees the same configuration (including one built in code, as tests do)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_") or k == "NEWSMON_DEBUG"}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        env[f"NEWSMON_{name.upper()}"] = str(value)
    # the child imports this checkout's packages even when run from elsewhere
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run_crawl(settings: Settings, sources: Iterable[Source], *, today: date | None = None, dry_run: bool = False,
              on_event: EventHandler | None = None, timeout: float | None = None) -> CrawlRun:
    """Crawl the sources once (concurrently, one child process) and return per-source outcomes."""
    sources = list(sources)
    outcomes = {s.id: SourceOutcome(s.id) for s in sources}
    links: list[dict[str, Any]] = []
    fatal: str | None = None
    job = {"sources": [s.model_dump(mode="json") for s in sources], "today": today.isoformat() if today else None,
           "dry_run": dry_run}
    proc = subprocess.Popen([sys.executable, "-m", "crawler.process"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=settings_env(settings), text=True, encoding="utf-8")
    tail: deque[str] = deque(maxlen=40)
    drain = threading.Thread(target=lambda: tail.extend(proc.stderr), daemon=True)
    drain.start()
    timer = threading.Timer(timeout, proc.kill) if timeout else None
    if timer:
        timer.start()
    try:
        proc.stdin.write(json.dumps(job, ensure_ascii=False))
        proc.stdin.close()
        for line in proc.stdout:
            ev = events.parse(line)
            if ev is None:
                continue
            sid = ev.get("source")
            if sid in outcomes:
                outcomes[sid].apply(ev)
                if ev["event"] == "published":
                    outcomes[sid].published_urls.append(ev["url"])
            if ev["event"] == "link":
                links.append(ev)
            if ev["event"] == "fatal":
                fatal = ev.get("error")
            if on_event:
                on_event(ev)
        proc.wait()
    finally:
        if timer:
            timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    drain.join(timeout=5)
    stderr_tail = "".join(tail)
    for o in outcomes.values():
        if not o.finished:
            o.status = "failed"
            reason = fatal or f"crawl process ended with code {proc.returncode} before this source finished"
            o.error_samples.append(reason)
            o.errors += 1
    return CrawlRun(outcomes, links, proc.returncode, stderr_tail, fatal)


def record_outcomes(registry, run: CrawlRun, worker: str | None = None) -> None:
    """Store each source's result as its last crawl in the registry (shown by `source list`)."""
    for sid, outcome in run.outcomes.items():
        if outcome.finished_at is None:
            outcome.finished_at = utcnow()
        registry.record_crawl(sid, outcome.result(worker))
