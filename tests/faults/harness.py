"""What the fault tests share: consumer stages as real processes, consumer-group lag, an
at-least-once publisher, and the accounting of what reached Elasticsearch and dead-letter."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from elasticsearch import helpers
from kafka import KafkaConsumer, TopicPartition

from newsmon.deadletter import Letter, read_dead_letters
from newsmon.es import make_es
from newsmon.kafka import client_config, make_admin, make_producer, send_and_wait
from newsmon.kafka import read_topic as kafka_read_topic
from newsmon.settings import INDEX_ARTICLES, Settings

REPO = Path(__file__).resolve().parents[2]


def stage_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a newsmon process needs to work against `settings` (fault stack, namespace)."""
    return os.environ | {"NEWSMON_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "NEWSMON_ES_URL": settings.es_url,
                         "NEWSMON_NAMESPACE": settings.namespace, "NEWSMON_LOG_LEVEL": "INFO",
                         "PYTHONUNBUFFERED": "1"} | extra


class Stage:
    """One `newsmon consume <name>` process; its output goes to a log file."""

    def __init__(self, name: str, settings: Settings, log: Path, args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None):
        self.name, self.settings, self.log, self.args = name, settings, log, args
        self.env = stage_env(settings, **(env or {}))
        self.proc: subprocess.Popen | None = None

    def start(self) -> Stage:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "newsmon", "consume", self.name, *self.args],
                                         cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        return self

    def wait_consuming(self, timeout: float = 120) -> None:
        """Until the stage has subscribed (it logs `consuming ... as group ...`)."""
        wait_until(lambda: self.count(": consuming (") > 0 or not self.alive, timeout,
                   f"{self.name} subscribed", self.output)
        assert self.alive, f"{self.name} exited at start-up:\n{self.output()}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pause(self) -> None:
        """SIGSTOP: frozen where it is, sending nothing (a commit not on the wire yet never is)."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """kill -9: no clean shutdown, no final commit."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM (finish the batch, commit, close); kill after `timeout`. The exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def output(self, lines: int = 30) -> str:
        """The last lines of the stage's own output (the Kafka client's reconnect chatter left out)."""
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        own = [ln for ln in text.splitlines() if " kafka." not in ln and ln.strip() and not ln.startswith(" ")]
        return "\n".join(own[-lines:])

    def count(self, needle: str) -> int:
        return self.log.read_text(encoding="utf-8", errors="replace").count(needle) if self.log.exists() else 0


def wait_until(check: Callable[[], bool], timeout: float, what: str, explain: Callable[[], str] = str,
               interval: float = 0.5) -> float:
    """Poll `check` until it is true; AssertionError with `explain()` after `timeout`. Seconds taken."""
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"{what}: not reached within {timeout:.0f}s\n{explain()}")
        time.sleep(interval)
    return time.monotonic() - t0


class Offsets:
    """End offsets of a topic and a consumer group's committed offsets on it (None while the
    broker cannot answer; the error is kept in `.error` for the failure message)."""

    def __init__(self, settings: Settings, base_topic: str):
        self.settings = settings
        self.topic = settings.topic(base_topic)
        self.error = ""
        self._consumer: KafkaConsumer | None = None
        self._admin = None

    def end(self) -> int | None:
        try:
            if self._consumer is None:
                self._consumer = KafkaConsumer(**client_config(self.settings), group_id=None,
                                               enable_auto_commit=False, request_timeout_ms=5000)
            parts = [TopicPartition(self.topic, p) for p in self._consumer.partitions_for_topic(self.topic) or ()]
            return sum(self._consumer.end_offsets(parts).values()) if parts else 0
        except Exception as exc:
            self.error = f"end offsets: {type(exc).__name__}: {exc}"
            self.close()
            return None

    def committed(self, group: str) -> int | None:
        try:
            if self._admin is None:
                self._admin = make_admin(self.settings, request_timeout_ms=5000)
            got = self._admin.list_group_offsets(group).get(group, {})
        except Exception as exc:
            self.error = f"committed offsets: {type(exc).__name__}: {exc}"
            self.close()
            return None
        return sum(meta.offset for tp, meta in got.items() if tp.topic == self.topic and meta.offset >= 0)

    def lag(self, group: str) -> int | None:
        end, done = self.end(), self.committed(group)
        return None if end is None or done is None else end - done

    def close(self) -> None:
        for client in (self._consumer, self._admin):
            if client is not None:
                try:
                    client.close()
                except Exception as exc:  # a client of a dead broker may not close cleanly
                    self.error += f" (close: {exc})"
        self._consumer = self._admin = None


@dataclass
class Publisher:
    """Publishes (key, value) pairs the way the crawler does — acks=all, idempotent, and whatever the
    broker did not acknowledge is sent again until it is (at-least-once) — at `per_second`."""

    settings: Settings
    topic: str
    messages: list[tuple[str, bytes]]
    per_second: float = 100.0
    deadline_s: float = 240.0
    sent: int = 0                     # first sends so far
    acked: set[str] = field(default_factory=set)
    resent: int = 0
    errors: Counter = field(default_factory=Counter)
    _thread: threading.Thread | None = None

    def start(self) -> Publisher:
        self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    @property
    def done(self) -> bool:
        return len(self.acked) == len(self.messages)

    def _run(self) -> None:
        topic = self.settings.topic(self.topic)
        producer = make_producer(self.settings, delivery_timeout_ms=60_000)
        by_key = dict(self.messages)
        pending: dict[str, object] = {}
        t0 = time.monotonic()
        for i, (key, value) in enumerate(self.messages):
            pending[key] = self._send(producer, topic, key, value)
            self.sent = i + 1
            time.sleep(max(0.0, t0 + (i + 1) / self.per_second - time.monotonic()))
        deadline = time.monotonic() + self.deadline_s
        while pending and time.monotonic() < deadline:
            try:
                producer.flush(timeout=30)
            except Exception as exc:  # the broker is still away: look at the futures anyway
                self.errors[type(exc).__name__] += 1
            again: dict[str, object] = {}
            for key, fut in pending.items():
                if fut is not None and fut.is_done and fut.succeeded():
                    self.acked.add(key)
                elif fut is None or fut.is_done:  # failed (or could not even be queued): send again
                    if fut is not None:
                        self.errors[type(fut.exception).__name__] += 1
                    self.resent += 1
                    again[key] = self._send(producer, topic, key, by_key[key])
                else:
                    again[key] = fut
            pending = again
        producer.close(timeout=30)

    def _send(self, producer, topic: str, key: str, value: bytes):
        try:
            return producer.send(topic, key=key.encode(), value=value)
        except Exception as exc:  # e.g. metadata unavailable while the broker restarts
            self.errors[type(exc).__name__] += 1
            return None


def indexed_stories(settings: Settings) -> list[dict]:
    """Every document of the namespace's newsmon-articles alias: id, page_key, ordinal, version."""
    es = make_es(settings)
    try:
        alias = settings.index(INDEX_ARTICLES)
        es.indices.refresh(index=alias)
        return [{"id": h["_id"], "version": h.get("_version", 1), **h["_source"]}
                for h in helpers.scan(es, index=alias, query={"query": {"match_all": {}}}, version=True,
                                      _source=["page_key", "ordinal"], size=1000)]
    finally:
        es.close()


@dataclass
class DeadLetters:
    letters: list[Letter]

    @classmethod
    def read(cls, settings: Settings) -> DeadLetters:
        return cls(list(read_dead_letters(settings)))

    def by_key(self, stage: str | None = None) -> dict[str, set[str]]:
        """Message key -> the reasons it was dead-lettered for."""
        out: dict[str, set[str]] = defaultdict(set)
        for lt in self.letters:
            if stage is None or lt.letter.stage == stage:
                out[lt.letter.key or ""].add(lt.letter.reason)
        return out

    def distinct(self) -> int:
        """Letters about distinct input messages: a letter names the topic, partition and offset it
        came from, so a redelivered poison message lettered twice counts once."""
        return len({(lt.letter.topic, lt.letter.partition, lt.letter.offset) for lt in self.letters})

    def reasons(self) -> Counter:
        return Counter(lt.letter.reason for lt in self.letters)

    def __len__(self) -> int:
        return len(self.letters)


def produce(settings: Settings, base_topic: str, messages: list[tuple[str, bytes]]) -> None:
    """Publish and wait for every acknowledgement (no fault on the broker meanwhile)."""
    send_and_wait(settings, ((settings.topic(base_topic), k.encode(), v) for k, v in messages))


def read_topic(settings: Settings, base_topic: str) -> list[tuple[str, bytes]]:
    """Every (key, value) on a topic from the beginning to its current end, outside any group."""
    return [(r.key.decode(), r.value) for r in kafka_read_topic(settings, base_topic, timeout_s=60)]


def page_accounting(published_keys: set[str], docs: list[dict], dead: dict[str, set[str]]) -> dict[str, object]:
    """Where each published page ended: indexed (its stories, by page key), dead-lettered (by message
    key), lost (neither), both; and pages whose stories are not exactly once (ordinals 0..n-1)."""
    ordinals: dict[str, list[int]] = defaultdict(list)
    for d in docs:
        ordinals[d["page_key"]].append(d["ordinal"])
    return {
        "indexed": set(ordinals), "dead": set(dead),
        "lost": published_keys - ordinals.keys() - dead.keys(),
        "both": ordinals.keys() & dead.keys(),
        "strangers": (ordinals.keys() | dead.keys()) - published_keys,
        "not_exactly_once": {k: sorted(o) for k, o in ordinals.items() if sorted(o) != list(range(len(o)))},
    }
