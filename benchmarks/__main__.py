"""Run the benchmarks against the real local stack and print one table (also written as JSON).

    python -m benchmarks                      # everything, ~8 minutes
    python -m benchmarks processor e2e        # some of them
    python -m benchmarks --quick              # a short smoke run (tests/benchmarks)
    python -m benchmarks --json out.json      # default: benchmarks/results/latest.json

Benchmarks: processor (pages/s per core vs bare trafilatura), search (indexer docs/s, search
latency), crawler (pages/min on the fixture site, delay 0), e2e (publish → searchable and →
e-mail at 20 pages/s for 2 minutes, peak memory per process). The local Kafka and Elasticsearch
are reused when running, started otherwise (and left running). Everything runs in a namespace of
its own (`bench-xxxxxx`), whose topics, indices and consumer groups are deleted at the end.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.common import ROOT, Context, cleanup_namespace, row
from newsmon.settings import load_settings

AVAILABLE = ("processor", "search", "crawler", "e2e")
NEEDS_STACK = {"search", "crawler", "e2e"}
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "latest.json"
_MEMORY_NOTES = {"processor": "`newsmon consume processor`, e2e run", "indexer": "`newsmon consume indexer`, e2e run",
                 "alerter": "`newsmon consume alerter`, e2e run",
                 "crawler": "`newsmon crawl` and its crawl process (the larger), crawler run"}


def machine_info() -> dict:
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), "cores": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "machine": platform.machine(), "system": platform.system()}


def memory_rows(ctx: Context) -> list[dict]:
    return [row("memory", f"peak RSS: {role}", mb, "MB", _MEMORY_NOTES.get(role, ""))
            for role, mb in sorted(ctx.memory.items())]


def print_table(machine: dict, rows: list[dict], console: Console) -> None:
    load = ", ".join(f"{x:.2f}" for x in machine["load_average_at_start"])
    table = Table(title=f"newsmon benchmarks, {machine['date']}: {machine['cores']} cores, "
                        f"load average at start {load}, Python {machine['python']}")
    for col in ("benchmark", "metric", "value", "unit", "notes"):
        table.add_column(col, overflow="fold")
    for r in rows:
        value = r["value"]
        shown = f"{value:,.2f}" if isinstance(value, float) and value < 100 else f"{value:,.0f}"
        table.add_row(r["benchmark"], r["metric"], shown, r["unit"], r["notes"])
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(AVAILABLE)})")
    ap.add_argument("--quick", action="store_true", help="a short smoke run: small inputs, a 5 s e2e run")
    ap.add_argument("--json", dest="json_out", type=Path, default=DEFAULT_JSON, help="write the results here")
    args = ap.parse_args(argv)
    names = args.names or list(AVAILABLE)
    unknown = [n for n in names if n not in AVAILABLE]
    if unknown:
        print(f"error: unknown benchmark {unknown[0]!r} (choose from {', '.join(AVAILABLE)})", file=sys.stderr)
        return 2
    console = Console(stderr=True)
    machine = machine_info()
    base = load_settings()
    if NEEDS_STACK.intersection(names):
        from deploy.local.stack import LocalStack

        statuses, _ = LocalStack(base).up(progress=lambda m: console.print(f"[stack] {m}"))
        if not all(s.healthy for s in statuses):
            print(f"error: local stack not healthy: {statuses}", file=sys.stderr)
            return 1
    workdir = Path(tempfile.mkdtemp(prefix="newsmon-bench-"))
    ctx = Context(base.model_copy(update={"namespace": f"bench-{uuid.uuid4().hex[:6]}"}), quick=args.quick,
                  workdir=workdir)
    rows: list[dict] = []
    failed = False
    try:
        for name in names:
            console.print(f"[bold]{name}[/] …")
            started = time.monotonic()
            try:
                rows.extend(importlib.import_module(f"benchmarks.{name}").run(ctx))
            except Exception as exc:  # report it and go on with the others; exit non-zero at the end
                failed = True
                console.print(f"[red]{name} failed: {type(exc).__name__}: {exc}[/] (logs in {workdir})")
            console.print(f"{name}: {time.monotonic() - started:.0f} s")
        rows.extend(memory_rows(ctx))
    finally:
        if NEEDS_STACK.intersection(names):
            for problem in cleanup_namespace(ctx.settings):
                console.print(f"[yellow]cleanup: {problem}[/]")
    print_table(machine, rows, Console(width=None if sys.stdout.isatty() else 200))
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps({"machine": machine, "quick": args.quick, "benchmarks": names, "rows": rows},
                                        ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"written to {args.json_out}")
    if not failed:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
