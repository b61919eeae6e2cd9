"""What every benchmark shares: result rows, the run's namespace on the real local stack, its
cleanup, percentiles, subprocess environments and the peak-memory watch of child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from newsmon.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def row(benchmark: str, metric: str, value: float, unit: str, notes: str = "", **details: Any) -> dict[str, Any]:
    """One line of the table; `details` go to the JSON only."""
    out = {"benchmark": benchmark, "metric": metric, "value": value, "unit": unit, "notes": notes}
    if details:
        out["details"] = details
    return out


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Context:
    """One benchmark run: settings in a namespace of its own, and whether it is the short smoke run."""

    settings: Settings
    quick: bool = False
    workdir: Path = field(default_factory=lambda: Path(os.environ.get("TMPDIR", "/tmp")))
    memory: dict[str, float] = field(default_factory=dict)   # process role → peak RSS (MB), filled by runs

    def sub(self, name: str) -> Settings:
        """Settings in a sub-namespace (own topics, indices, crawl state), removed with the run's."""
        return self.settings.model_copy(update={"namespace": f"{self.settings.namespace}-{name}"})

    def env(self, settings: Settings, **extra: str) -> dict[str, str]:
        """Environment for a `newsmon` child process that uses these settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
        for name, value in settings.model_dump(exclude_none=True).items():
            if name in ("kafka_sasl_password", "es_password", "es_api_key", "smtp_password"):
                value = value.get_secret_value()
            env[f"NEWSMON_{name.upper()}"] = str(value)
        env.update({k: str(v) for k, v in extra.items()})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        return env


def newsmon_command(*args: str) -> list[str]:
    """`newsmon ARGS` run by this interpreter, so the child's PID is the Python process itself."""
    return [sys.executable, "-m", "newsmon", *args]


def cleanup_namespace(settings: Settings) -> list[str]:
    """Delete every index, index template and topic of the namespace (and its sub-namespaces).
    Returns what could not be cleaned, so a failed cleanup is reported, not hidden."""
    from newsmon.es import make_es
    from newsmon.kafka import make_admin

    ns = settings.namespace
    problems: list[str] = []
    es = make_es(settings)
    try:
        lenient = es.options(ignore_status=404)
        # destructive_requires_name forbids wildcard deletes: resolve the names first
        names = list(lenient.indices.get(index=f"{ns}-*", expand_wildcards="all").body)
        for i in range(0, len(names), 50):
            lenient.indices.delete(index=",".join(names[i:i + 50]))
        for tpl in lenient.indices.get_index_template(name=f"{ns}-*").get("index_templates", []):
            es.indices.delete_index_template(name=tpl["name"])
    except Exception as exc:
        problems.append(f"elasticsearch: {exc}")
    finally:
        es.close()
    try:
        admin = make_admin(settings)
        mine = [t for t in admin.list_topics() if t.startswith(f"{ns}.") or t.startswith(f"{ns}-")]
        if mine:
            admin.delete_topics(mine)
        groups = [g["group_id"] for g in admin.list_groups()
                  if g["group_id"].startswith(f"{ns}.") or g["group_id"].startswith(f"{ns}-")]
        if groups:
            admin.delete_groups(groups)
        admin.close()
    except Exception as exc:
        problems.append(f"kafka: {exc}")
    return problems


class ProcessWatch:
    """Watches child processes (and their own children: the crawler runs each cycle in a child).

    Peak memory: polled, keeping each role's peak; on Linux the kernel's own high-water mark (VmHWM)
    is read, so a peak between two polls is not missed; elsewhere the polled maximum.
    CPU: `cpu_seconds(role)` is the CPU time (user + system) the role's process has used so far, so
    the difference between two readings is what a stretch of work cost, start-up excluded."""

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.peaks_mb: dict[str, float] = {}
        self._watched: dict[str, psutil.Process] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="process-watch", daemon=True)

    def watch(self, role: str, pid: int) -> None:
        with self._lock:
            self._watched[role] = psutil.Process(pid)

    def cpu_seconds(self, role: str) -> float:
        try:
            times = self._watched[role].cpu_times()
        except psutil.Error:
            return 0.0
        return times.user + times.system

    def __enter__(self) -> ProcessWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.sample()
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        with self._lock:
            watched = list(self._watched.items())
        for role, proc in watched:
            try:
                tree = [proc, *proc.children(recursive=True)]
            except psutil.Error:
                continue
            for p in tree:
                mb = _peak_rss_mb(p)
                if mb is not None and mb > self.peaks_mb.get(role, 0.0):
                    self.peaks_mb[role] = mb


def _peak_rss_mb(proc: psutil.Process) -> float | None:
    try:
        with open(f"/proc/{proc.pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        return proc.memory_info().rss / 1024 / 1024
    except psutil.Error:
        return None


def wait_until(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@contextmanager
def child(command: list[str], env: dict[str, str], log: Path):
    """A child process with its output in `log`; stopped (SIGTERM, then SIGKILL) on the way out."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
