"""Supervise the service's processes for `newsmon run`: start, restart with backoff, stop gracefully.

Each stage process is a plain `newsmon ...` command (the same one an operator would run by hand
or put in a systemd unit or a container), started in a session of its own so that a signal to
its process group also reaches what it starts (the crawler worker's Scrapy child). Output goes to
one log file per process in the run directory; with NEWSMON_LOG_FORMAT=json the lines there are
JSON objects. What the supervisor itself does (start, exit, restart, stop) goes to
`supervisor.log` as JSON lines.

A process that exits while the supervisor is running is restarted after a backoff that doubles
from `backoff_initial` up to `backoff_max`, and is reset once the process stays up for
`stable_after` seconds, so a crash loop (e.g. Elasticsearch down at start) does not spin.
Stopping sends SIGTERM to every process group at once — each stage then stops taking work,
finishes and commits its batch and flushes its producer — and SIGKILL to whatever is still
alive after the grace period. A SIGKILL loses nothing either (offsets are committed only after
the work is done) but redoes the uncommitted batch on the next start.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any


@dataclass(frozen=True)
class ProcessSpec:
    name: str                 # unique: "processor-1"
    stage: str                # "processor"
    args: tuple[str, ...]     # arguments to `newsmon`


@dataclass
class ManagedProcess:
    spec: ProcessSpec
    log_path: Path
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = 0.0
    restart_at: float | None = None
    exits: list[int] = field(default_factory=list)
    _log: IO[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    def __init__(self, specs: list[ProcessSpec], *, run_dir: Path, env: dict[str, str],
                 backoff_initial: float = 1.0, backoff_max: float = 60.0, stable_after: float = 60.0,
                 on_event: Callable[[dict[str, Any]], None] | None = None):
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"process names must be unique: {names}")
        self.run_dir = run_dir
        self.log_dir = run_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = env
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.stable_after = stable_after
        self.on_event = on_event
        self.processes = [ManagedProcess(s, self.log_dir / f"{s.name}.log") for s in specs]
        self._events = (self.log_dir / "supervisor.log").open("a", encoding="utf-8")
        self.stopping = False

    # ------------------------------------------------------------------------------ life cycle
    def start(self) -> None:
        for mp in self.processes:
            self._spawn(mp)

    def tick(self) -> None:
        """Reap processes that exited and restart those whose backoff has passed."""
        now = time.monotonic()
        for mp in self.processes:
            if mp.proc is not None and mp.proc.poll() is not None:
                code = mp.proc.returncode
                mp.exits.append(code)
                uptime = now - mp.started_at
                mp.proc = None
                self._close_log(mp)
                if self.stopping:
                    continue
                mp.backoff = (self.backoff_initial if uptime >= self.stable_after or not mp.backoff
                              else min(mp.backoff * 2, self.backoff_max))
                mp.restart_at = now + mp.backoff
                self._event("exited", mp, code=code, uptime_s=round(uptime, 1), restart_in_s=mp.backoff)
            if mp.proc is None and mp.restart_at is not None and now >= mp.restart_at and not self.stopping:
                mp.restarts += 1
                self._spawn(mp)

    def stop(self, grace: float = 30.0) -> dict[str, int | None]:
        """SIGTERM every process group, wait up to `grace` seconds, SIGKILL the rest; return the
        exit code of each process (None if it had already exited before the stop)."""
        self.stopping = True
        running = [mp for mp in self.processes if mp.alive]
        for mp in running:
            self._event("stopping", mp)
            _signal_group(mp.proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for mp in running:
            try:
                mp.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._event("killed", mp, reason=f"still running {grace:.0f}s after SIGTERM")
                _signal_group(mp.proc, signal.SIGKILL)
                mp.proc.wait()
        codes: dict[str, int | None] = {}
        for mp in self.processes:
            codes[mp.spec.name] = mp.proc.returncode if mp.proc is not None else None
            if mp.proc is not None:
                self._event("stopped", mp, code=mp.proc.returncode)
                mp.proc = None
            self._close_log(mp)
        self._events.close()
        return codes

    # ------------------------------------------------------------------------------ reporting
    def by_stage(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for mp in self.processes:
            row = out.setdefault(mp.spec.stage, {"alive": 0, "total": 0, "restarts": 0})
            row["total"] += 1
            row["alive"] += int(mp.alive)
            row["restarts"] += mp.restarts
        return out

    # ------------------------------------------------------------------------------ plumbing
    def _spawn(self, mp: ManagedProcess) -> None:
        mp._log = mp.log_path.open("ab", buffering=0)
        env = dict(self.env, NEWSMON_PROCESS_NAME=mp.spec.name, PYTHONUNBUFFERED="1")
        mp.proc = subprocess.Popen([sys.executable, "-m", "newsmon", *mp.spec.args], stdin=subprocess.DEVNULL,
                                   stdout=mp._log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        mp.started_at = time.monotonic()
        mp.restart_at = None
        self._event("started", mp, pid=mp.proc.pid, args=list(mp.spec.args))

    def _close_log(self, mp: ManagedProcess) -> None:
        if mp._log is not None:
            mp._log.close()
            mp._log = None

    def _event(self, what: str, mp: ManagedProcess, **details: Any) -> None:
        ev = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": what,
              "process": mp.spec.name, "stage": mp.spec.stage, **details}
        self._events.write(json.dumps(ev, ensure_ascii=False) + "\n")
        self._events.flush()
        if self.on_event:
            self.on_event(ev)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
