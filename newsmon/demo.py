"""`newsmon demo`: the whole service on the fixture news site 滨江日报, end to end, idempotently.

Steps: the local stack (or the configured one); the fixture site and a mail catcher as child
processes on 127.0.0.1; the fixture sources and one example subscriber registered (replacing
earlier ones, so a re-run changes nothing); one full cycle of `newsmon run --once`; then a
summary read back from the shared systems — Kafka, Elasticsearch and the mail catcher's folder —
so a second run reports the same totals (and "new this run: 0").

The mail catcher keeps every e-mail as a .eml file in `<run_dir>/../demo-mail/<namespace>`, which
survives between demo runs: that is how the demo shows every e-mail ever sent and proves that a
re-run sent none twice.
"""

from __future__ import annotations

import email
import email.policy
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from newsmon.service import RunOptions, RunResult, child_env, prepare_stack, run_service
from newsmon.settings import INDEX_ARTICLES, Settings
from newsmon.status import Status, collect_status

SUBSCRIBER = "analyst@example.org"
EXAMPLE_SEARCHES = ("微信工作群", "減負", "指尖上的形式主义")


class DemoError(Exception):
    """The demo cannot go on; one line for the CLI."""


@dataclass
class DemoSummary:
    seconds: float
    run_reason: str
    run_dir: str
    articles_published: int              # raw pages on newsmon.raw-pages (all runs)
    published_this_run: int
    stories: int
    relevant: int
    campaigns: int
    dead_letters: int
    emails: list[dict[str, Any]]         # every e-mail the demo's catcher has received
    emails_this_run: int
    sources: list[dict[str, Any]]
    facets: dict[str, list[tuple[str, int]]]
    searches: list[dict[str, Any]] = field(default_factory=list)
    lag_left: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def mail_dir(settings: Settings) -> Path:
    return Path(settings.run_dir).parent / "demo-mail" / (settings.namespace or "default")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        # as the servers do: a port whose last connections are in TIME_WAIT is free to listen on
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoError(f"{what} exited with code {proc.returncode} before listening on 127.0.0.1:{port}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise DemoError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


class Helpers:
    """The fixture site and the mail catcher, as child processes stopped when the demo ends."""

    def __init__(self, settings: Settings, log_dir: Path):
        self.settings = settings
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        s = self.settings
        for port, what in ((s.demo_site_port, "the fixture site"), (s.smtp_port, "the mail catcher")):
            if not _port_free(port):
                raise DemoError(f"127.0.0.1:{port} is taken, so {what} cannot start there; free it or set "
                                f"{'NEWSMON_DEMO_SITE_PORT' if what == 'the fixture site' else 'NEWSMON_SMTP_PORT'}")
        mail_dir(s).mkdir(parents=True, exist_ok=True)
        self._spawn(("demo-site", "--port", str(s.demo_site_port), "--slow", "0.5"), "demo-site", s.demo_site_port)
        self._spawn(("mailcatcher", "--port", str(s.smtp_port), "--dir", str(mail_dir(s))), "mailcatcher",
                    s.smtp_port)

    def _spawn(self, args: tuple[str, ...], name: str, port: int) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "newsmon", *args], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=child_env(self.settings, {}))
        log.close()
        self.procs.append(proc)
        _wait_port(port, proc, name)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def register_demo_inputs(settings: Settings) -> int:
    """Register the fixture sources (pointing at the demo site's port) and the example subscriber."""
    from crawler.demo_site import fixture_sources_yaml
    from crawler.registry import SourceRegistry
    from crawler.source import load_sources_yaml
    from newsmon.es import make_es
    from search.alerts.subscriptions import SubscriptionStore

    registry = SourceRegistry(settings)
    sources = load_sources_yaml(fixture_sources_yaml(f"http://127.0.0.1:{settings.demo_site_port}"))
    for src in sources:
        registry.put(src)
    store = SubscriptionStore(make_es(settings), settings)
    store.save(store.build(SUBSCRIBER, [], [], None, "instant"))
    return len(sources)


def read_emails(settings: Settings) -> list[dict[str, Any]]:
    out = []
    for path in sorted(mail_dir(settings).glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        out.append({"file": path.name, "to": str(msg["To"] or ""), "subject": str(msg["Subject"] or "")})
    return out


def example_searches(settings: Settings) -> tuple[dict[str, list[tuple[str, int]]], list[dict[str, Any]]]:
    """The top facets of all relevant stories (Kibana's dashboard) and three example searches."""
    from newsmon.es import make_es
    from search.query import SearchRequest, search_stories

    es = make_es(settings)
    index = settings.index(INDEX_ARTICLES)
    es.indices.refresh(index=index)
    facets = search_stories(es, index, SearchRequest(limit=0)).facets
    searches = []
    for q in EXAMPLE_SEARCHES:
        res = search_stories(es, index, SearchRequest(query=q, limit=3))
        searches.append({"query": q, "total": res.total,
                         "hits": [{"title": h.title, "region": h.region_label, "date": h.date} for h in res.hits]})
    return facets, searches


def run_demo(settings: Settings, *, progress=print, timeout: float = 600.0) -> DemoSummary:
    # The fixture site is on 127.0.0.1, which the crawler refuses unless told (SSRF guard), and
    # politeness delays would only make the demo slow against our own server.
    settings = settings.model_copy(update={"crawl_allow_private_networks": True, "crawl_delay": 0.0,
                                           "smtp_host": "127.0.0.1", "smtp_security": "none"})
    started = time.monotonic()
    prepare_stack(settings, progress=progress)
    before = collect_status(settings, smtp=False, sources=False)
    emails_before = len(read_emails(settings))
    helpers = Helpers(settings, Path(settings.run_dir) / "demo-helpers")
    helpers.start()
    try:
        n = register_demo_inputs(settings)
        progress(f"registered {n} fixture sources and the subscriber {SUBSCRIBER}; running one cycle")
        result: RunResult = run_service(settings, RunOptions(once=True, timeout=timeout, grace=30.0),
                                        stop=threading.Event())
        _wait_for_mail(settings)
    finally:
        helpers.stop()
    after = collect_status(settings, smtp=False)
    facets, searches = example_searches(settings)
    emails = read_emails(settings)
    return DemoSummary(
        seconds=time.monotonic() - started, run_reason=result.reason, run_dir=str(result.run_dir),
        articles_published=after.topics.get("newsmon.raw-pages", 0),
        published_this_run=after.topics.get("newsmon.raw-pages", 0) - before.topics.get("newsmon.raw-pages", 0),
        stories=after.documents.get("all", 0), relevant=after.documents.get("relevant", 0),
        campaigns=after.campaigns, dead_letters=after.dead_letters, emails=emails,
        emails_this_run=len(emails) - emails_before, sources=after.sources, facets=facets, searches=searches,
        lag_left=after.total_lag)


def _wait_for_mail(settings: Settings, timeout: float = 10.0) -> None:
    """Alerts the alerter recorded as sent must be in the catcher's folder before we count them."""
    deadline = time.monotonic() + timeout
    status: Status = collect_status(settings, smtp=False, sources=False)
    while len(read_emails(settings)) < status.alerts.get("sent", 0) and time.monotonic() < deadline:
        time.sleep(0.2)
