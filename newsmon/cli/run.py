"""`newsmon run`: the whole service on this host, supervised (newsmon.service)."""

from __future__ import annotations

import signal
import threading
import time

import typer
from rich.live import Live
from rich.table import Table

from newsmon.cli import CliError
from newsmon.cli._common import console, err_console, settings
from newsmon.service import RunOptions, RunResult, ServiceError, prepare_stack, run_service
from newsmon.status import Status
from newsmon.supervisor import Supervisor

# stage -> (topic whose lag it works off, topic it writes), for the live lines
_STAGE_TOPICS = {"scheduler": (None, "newsmon.crawl-requests"), "crawler": ("crawler", "newsmon.raw-pages"),
                 "processor": ("processor", "newsmon.articles"), "indexer": ("indexer", "indexed"),
                 "alerter": ("alerter", "alerts_sent")}


def stage_lines(sup: Supervisor, status: Status | None) -> list[str]:
    """One line per stage: processes up, restarts, lag, output in the last minute."""
    lines = []
    for stage, row in sup.by_stage().items():
        lag_stage, out = _STAGE_TOPICS[stage]
        lag = status.lag_of(lag_stage) if status and lag_stage else None
        minute = status.last_minute.get(out) if status else None
        lines.append(f"{stage:<9} {row['alive']}/{row['total']} up  restarts {row['restarts']:<3} "
                     f"lag {'-' if lag is None else lag:<6} out/min {'-' if minute is None else minute}")
    return lines


def _live_table(sup: Supervisor, status: Status | None, started: float) -> Table:
    table = Table(title=f"newsmon run — {time.monotonic() - started:.0f}s, logs in {sup.log_dir}", show_lines=False)
    table.add_column("stage · processes · restarts · lag · out/min")
    for line in stage_lines(sup, status):
        table.add_row(line)
    return table


def execute(opts: RunOptions, *, start_stack: bool) -> RunResult:
    """Prepare the stack, run the service with live status, stop on SIGINT/SIGTERM."""
    s = settings()
    try:
        prepare_stack(s, start_local=start_stack, progress=lambda m: err_console.print(f"[dim]{m}[/]"))
    except ServiceError as exc:
        raise CliError(str(exc)) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    started = time.monotonic()
    last_print = [0.0]

    def on_event(ev: dict) -> None:
        if ev["event"] in ("exited", "killed"):
            code = f" with code {ev['code']}" if "code" in ev else ""
            again = f"; restart in {ev['restart_in_s']:.0f}s" if "restart_in_s" in ev else ""
            err_console.print(f"[yellow]{ev['process']} {ev['event']}{code}{again}[/]")

    if err_console.is_terminal:
        with Live(console=err_console, refresh_per_second=2, transient=False) as live:
            result = run_service(s, opts, stop=stop, on_event=on_event,
                                 on_tick=lambda sup, st: live.update(_live_table(sup, st, started)))
    else:
        def on_tick(sup: Supervisor, st: Status | None) -> None:
            if time.monotonic() - last_print[0] < 10:
                return
            last_print[0] = time.monotonic()
            # not a terminal (a log, CI): one unwrapped line every 10 s
            err_console.print(f"[{time.monotonic() - started:.0f}s] " + " | ".join(
                " ".join(line.split()) for line in stage_lines(sup, st)), soft_wrap=True, markup=False)

        result = run_service(s, opts, stop=stop, on_event=on_event, on_tick=on_tick)
    return result


def run(
    crawlers: int = typer.Option(1, min=0, max=64, help="Crawler worker processes."),
    processors: int = typer.Option(1, min=0, max=64, help="Processor processes."),
    indexers: int = typer.Option(1, min=0, max=64, help="Indexer processes."),
    alerters: int = typer.Option(1, min=0, max=8, help="Alerter processes."),
    schedule_every: str = typer.Option("1m", help="How often the scheduler looks for due sources."),
    once: bool = typer.Option(False, "--once", help="Crawl every enabled source now, stop when every stage is "
                                                    "idle (no scheduler)."),
    timeout: float = typer.Option(900.0, min=1, help="--once: stop anyway after this many seconds."),
    grace: float = typer.Option(30.0, min=1, max=600, help="Seconds a stage gets to finish after SIGTERM."),
    start_stack: bool = typer.Option(True, "--start-stack/--no-start-stack",
                                     help="Start the local stack if the settings point at it (the default ones)."),
) -> None:
    """Run the scheduler, crawler workers, processors, indexers and the alerter as supervised
    processes until Ctrl-C or SIGTERM: a crashed process is restarted with backoff; on stop
    each stage finishes its batch and commits, within --grace seconds. Each process logs
    (JSON lines) to its own file under NEWSMON_RUN_DIR/<run>/logs.

    Example: newsmon run --processors 2        (or: newsmon run --once)
    """
    from crawler.source import parse_duration

    try:
        parse_duration(schedule_every)
    except ValueError as exc:
        raise CliError(f"--schedule-every: {exc}") from None
    opts = RunOptions(crawlers=crawlers, processors=processors, indexers=indexers, alerters=alerters,
                      schedule_every=schedule_every, once=once, timeout=timeout, grace=grace)
    result = execute(opts, start_stack=start_stack)
    print_result(result)
    if result.reason == "timeout" or any(code not in (0, None, -signal.SIGTERM) for code in
                                         result.exit_codes.values()):
        raise typer.Exit(1)


def print_result(result: RunResult) -> None:
    why = {"idle": "every stage idle", "stopped": "stopped by signal", "timeout": "timed out before idle"}
    console.print(f"run ended after {result.seconds:.0f}s: {why[result.reason]}; logs: {result.run_dir / 'logs'}")
    restarted = {n: r for n, r in result.restarts.items() if r}
    if restarted:
        console.print("restarts: " + ", ".join(f"{n} {r}" for n, r in restarted.items()))
    failed = {n: c for n, c in result.exit_codes.items() if c not in (0, None, -signal.SIGTERM)}
    if failed:
        console.print("[yellow]exit codes: " + ", ".join(f"{n} {c}" for n, c in failed.items()) + "[/]")
    if result.status is not None and result.status.lags:
        pending = {g.stage: g.lag for g in result.status.lags if g.lag}
        console.print("left queued: " + (", ".join(f"{k} {v}" for k, v in pending.items()) if pending else "nothing"))


def register(app: typer.Typer) -> None:
    app.command("run")(run)
