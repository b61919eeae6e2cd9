"""The whole service on one host: what `newsmon run` (and `newsmon demo`) start and supervise.

    scheduler ─► crawl-requests ─► crawler workers ─► raw-pages ─► processors ─► articles ─┬► indexers
                                                                                            └► alerter

Each box is a `newsmon` command in a process of its own under `newsmon.supervisor.Supervisor`,
so the processes are exactly those an operator would run one by one elsewhere, and any stage can
have several processes (Kafka consumer groups share the partitions among them).

With `once`, no scheduler runs: a crawl of every enabled source is requested up front and the
run ends by itself when the cycle is finished, i.e. when every consumer group has committed
everything on its topic (lag 0 everywhere) and no alert is being sent, twice in a row. Offsets
are committed only after the downstream write, so lag 0 means every page made it all the way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from newsmon.settings import Settings
from newsmon.status import Status, collect_status
from newsmon.supervisor import ProcessSpec, Supervisor

STAGES = ("scheduler", "crawler", "processor", "indexer", "alerter")


class ServiceError(Exception):
    """The service cannot start (stack unreachable, bad option); one line for the CLI."""


@dataclass
class RunOptions:
    crawlers: int = 1
    processors: int = 1
    indexers: int = 1
    alerters: int = 1
    schedule_every: str = "1m"
    once: bool = False
    timeout: float = 900.0          # once: give up waiting for idle after this many seconds
    grace: float = 30.0             # seconds between SIGTERM and SIGKILL on stop
    status_every: float = 2.0
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass
class RunResult:
    reason: str                     # "idle" | "stopped" | "timeout"
    seconds: float
    run_dir: Path
    exit_codes: dict[str, int | None]
    restarts: dict[str, int]
    status: Status | None
    crawls_requested: int = 0


def uses_local_stack(settings: Settings) -> bool:
    """True when the settings point at the no-Docker local stack's default endpoints."""
    return (settings.kafka_bootstrap == f"127.0.0.1:{settings.kafka_port}"
            and settings.es_url == f"http://127.0.0.1:{settings.es_port}")


def prepare_stack(settings: Settings, *, start_local: bool = True, progress: Callable[[str], None] = print) -> None:
    """Start the local stack (local defaults only) or check the configured one, then create the
    topics and indices every stage needs (idempotent)."""
    from newsmon.kafka import ensure_topics

    if start_local and uses_local_stack(settings):
        from deploy.local.stack import LocalStack, StackError

        try:
            statuses, _ = LocalStack(settings).up(progress=progress)
        except StackError as exc:
            raise ServiceError(f"local stack: {exc}") from None
        bad = [s.name for s in statuses if not s.healthy]
        if bad:
            raise ServiceError(f"local stack not healthy: {', '.join(bad)} (see: newsmon stack logs)")
    status = Status()
    from newsmon.status import elasticsearch_figures, kafka_figures

    kafka_figures(settings, status)
    elasticsearch_figures(settings, status, sources=False)
    down = [h.detail for h in status.health if not h.ok]
    if down:
        raise ServiceError("; ".join(down) + (" (start the local stack: newsmon stack up)"
                                              if uses_local_stack(settings) else ""))
    ensure_topics(settings)
    from crawler.registry import SourceRegistry
    from newsmon.es import make_es
    from search.indices import init_all

    es = make_es(settings)
    init_all(es, settings)
    SourceRegistry(settings, es).ensure_index()


def process_specs(opts: RunOptions) -> list[ProcessSpec]:
    counts = {"scheduler": 0 if opts.once else 1, "crawler": opts.crawlers, "processor": opts.processors,
              "indexer": opts.indexers, "alerter": opts.alerters}
    args = {"scheduler": ("schedule", "--every", opts.schedule_every),
            "crawler": ("crawl", "--worker", "--json"),
            "processor": ("consume", "processor"),
            "indexer": ("consume", "indexer"),
            "alerter": ("consume", "alerter")}
    return [ProcessSpec(f"{stage}-{i}", stage, args[stage]) for stage in STAGES
            for i in range(1, counts[stage] + 1)]


def new_run_dir(settings: Settings) -> Path:
    """A fresh directory per run (logs of every process), with `latest` pointing at it."""
    base = Path(settings.run_dir)
    run_dir = base / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    run_dir.mkdir(parents=True)
    latest = base / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(run_dir.name)
    except OSError:
        pass  # a convenience only
    return run_dir


def child_env(settings: Settings, extra: dict[str, str]) -> dict[str, str]:
    from crawler.runner import settings_env

    env = settings_env(settings)
    env["NEWSMON_LOG_FORMAT"] = "json"
    env.update(extra)
    return env


def is_idle(status: Status) -> bool:
    lags_known = status.lags and all(g.lag is not None for g in status.lags)
    return bool(lags_known) and status.total_lag == 0 and status.alerts.get("sending", 0) == 0


def run_service(settings: Settings, opts: RunOptions, *, stop: threading.Event,
                on_tick: Callable[[Supervisor, Status | None], None] | None = None,
                on_event: Callable[[dict], None] | None = None) -> RunResult:
    """Run the stages until `stop` is set (or, with `once`, until the cycle is finished)."""
    from crawler.registry import SourceRegistry
    from crawler.scheduler import request_crawls

    run_dir = new_run_dir(settings)
    requested = 0
    if opts.once:
        sources = SourceRegistry(settings).all(enabled_only=True)
        requested = len(request_crawls(settings, sources, registry=SourceRegistry(settings)))
    sup = Supervisor(process_specs(opts), run_dir=run_dir, env=child_env(settings, opts.extra_env),
                     on_event=on_event)
    started = time.monotonic()
    sup.start()
    reason = "stopped"
    status: Status | None = None
    idle_checks = 0
    next_status = 0.0
    try:
        while not stop.is_set():
            sup.tick()
            now = time.monotonic()
            if now >= next_status:
                next_status = now + opts.status_every
                status = collect_status(settings, smtp=False, sources=False)
                if on_tick:
                    on_tick(sup, status)
                if opts.once:
                    idle_checks = idle_checks + 1 if is_idle(status) else 0
                    if idle_checks >= 2:
                        reason = "idle"
                        break
                    if now - started > opts.timeout:
                        reason = "timeout"
                        break
            stop.wait(0.2)
    finally:
        codes = sup.stop(grace=opts.grace)
    final = collect_status(settings, smtp=False, sources=False)
    restarts = {mp.spec.name: mp.restarts for mp in sup.processes}
    return RunResult(reason, time.monotonic() - started, run_dir, codes, restarts, final, requested)
