"""The one loop every consumer runs: poll → process → produce → commit.

Modelled on Media Cloud's story-indexer workers: a stage is a small subclass that says what to do
with a batch of messages; the base owns the Kafka plumbing and the guarantees:

- offsets are committed only after every message of the batch was handled — its outputs
  acknowledged by the broker (or written by the subclass's sink), or it was dead-lettered;
- a message that cannot be processed (poison) goes to `newsmon.dead-letter` with the stage, the
  reason, the error and the original payload, and the stream goes on;
- a transient failure (broker or Elasticsearch down) rewinds to the batch's first offsets and
  retries with backoff, so nothing is skipped;
- SIGINT/SIGTERM stop polling, finish the in-flight batch, commit, flush and close.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import signal
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError, KafkaTimeoutError

from newsmon.kafka import dumps, ensure_topics, make_consumer, make_producer
from newsmon.schemas import DeadLetter
from newsmon.settings import TOPIC_DEAD_LETTER, Settings

log = logging.getLogger(__name__)

# Dead letters stay well under the producer's max_request_size (16 MiB, newsmon.kafka).
MAX_DEAD_LETTER_BYTES = 8 * 1024 * 1024


class PoisonMessage(Exception):
    """This message can never be processed as it is: dead-letter it with `reason`."""

    def __init__(self, reason: str, error: str, details: dict[str, Any] | None = None):
        super().__init__(f"{reason}: {error}")
        self.reason = reason
        self.error = error
        self.details = details or {}


class TransientError(Exception):
    """A downstream is unavailable: retry the whole batch later, commit nothing."""


@dataclass(slots=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    timestamp_ms: int | None = None

    @classmethod
    def from_record(cls, r: ConsumerRecord) -> Message:
        key = r.key.decode("utf-8", "replace") if isinstance(r.key, bytes) else r.key
        return cls(r.topic, r.partition, r.offset, key, r.value or b"", r.timestamp)

    def json(self) -> Any:
        try:
            data = json.loads(self.value)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            # RecursionError: "[[[[..." nested deeper than the parser goes is not JSON we can read either
            raise PoisonMessage("invalid_json", f"message value is not JSON: {exc}") from None
        # A "\ud800" escape decodes to a lone surrogate, which no UTF-8 library (OpenCC, jieba, lxml)
        # and no JSON writer of ours takes: every stage gets U+FFFD instead.
        return _scrub_surrogates(data) if _SURROGATE_ESCAPE.search(self.value) else data


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _scrub_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_scrub_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_scrub_surrogates(k): _scrub_surrogates(v) for k, v in value.items()}
    return value


@dataclass(slots=True)
class Output:
    """A message to produce: topic is the base name (namespace applied by the base)."""

    topic: str
    key: str
    value: Any             # JSON-serialisable


@dataclass
class Stats:
    consumed: int = 0
    produced: int = 0
    dead_lettered: int = 0
    batches: int = 0
    retries: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    last_message_at: float | None = None


class Consumer(ABC):
    """Subclass and set `name` and `input_topics`; implement `process` (one message in, outputs out),
    or override `handle_batch` for a sink that works in batches (the indexer)."""

    name: ClassVar[str]
    input_topics: ClassVar[tuple[str, ...]]
    output_topics: ClassVar[tuple[str, ...]] = ()
    batch_size: ClassVar[int] = 100
    poll_timeout_ms: ClassVar[int] = 500

    def __init__(self, settings: Settings, group_id: str | None = None):
        self.settings = settings
        self.group_id = group_id or settings.topic(f"newsmon-{self.name}")
        self.stats = Stats()
        self._stop = threading.Event()
        self._consumer = None
        self._producer = None

    # ------------------------------------------------------------------ what a stage implements
    @abstractmethod
    def process(self, msg: Message) -> Iterable[Output]:
        """Handle one message; raise PoisonMessage for bad input, TransientError to retry later."""

    def handle_batch(self, batch: list[Message]) -> None:
        """Default: process each message, produce all outputs, wait for every acknowledgement."""
        futures = []
        for msg in batch:
            try:
                outputs = list(self.process(msg))
            except PoisonMessage as exc:
                self.dead_letter(msg, exc.reason, exc.error, exc.details)
                continue
            except TransientError:
                raise
            except Exception as exc:  # a bug or an input we did not foresee: keep the stream going
                log.exception("%s: processing failed at %s[%d]@%d", self.name, msg.topic, msg.partition, msg.offset)
                self.dead_letter(msg, "exception", f"{type(exc).__name__}: {exc}",
                                 {"traceback": traceback.format_exc(limit=8)})
                continue
            for out in outputs:
                futures.append(self._send(self.settings.topic(out.topic), out.key, dumps(out.value)))
        self._wait(futures)
        self.stats.produced += len(futures)

    def on_idle(self) -> None:  # noqa: B027 - optional hook, most stages have nothing to do
        """Called when a poll returned nothing (timers: flush a partial bulk, retry pending work)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release stage resources (called once, after the last commit)."""

    # ------------------------------------------------------------------ plumbing
    @property
    def producer(self):
        """Created on first use (a stage may never produce); when the broker is away at that moment
        the batch is retried later instead of the stage dying."""
        if self._producer is None:
            try:
                self._producer = make_producer(self.settings)
            except KafkaError as exc:
                raise TransientError(f"cannot connect a producer: {type(exc).__name__}: {exc}") from exc
        return self._producer

    def dead_letter(self, msg: Message, reason: str, error: str, details: dict[str, Any] | None = None) -> None:
        try:
            payload, enc = msg.value.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            payload, enc = base64.b64encode(msg.value).decode("ascii"), "base64"
        letter = DeadLetter(stage=self.name, reason=reason, error=error[:2000], topic=msg.topic,
                            partition=msg.partition, offset=msg.offset, key=msg.key, payload=payload,
                            payload_encoding=enc, details=details or {})
        value = dumps(letter.model_dump(mode="json"))
        if len(value) > MAX_DEAD_LETTER_BYTES:
            # JSON escaping can make the letter of a near-limit message bigger than the broker takes,
            # and a letter that cannot be produced would stall the stage for ever: keep the head of
            # the payload (the original stays on its topic until retention) and say so.
            keep = len(payload) * MAX_DEAD_LETTER_BYTES // (2 * len(value))
            letter.payload = payload[:keep]
            letter.details = {**letter.details, "payload_truncated": True, "payload_bytes": len(msg.value)}
            value = dumps(letter.model_dump(mode="json"))
        fut = self._send(self.settings.topic(TOPIC_DEAD_LETTER), msg.key or "", value)
        self._wait([fut])
        self.stats.dead_lettered += 1
        self.stats.by_reason[reason] = self.stats.by_reason.get(reason, 0) + 1
        log.warning("%s: dead-lettered %s[%d]@%d: %s", self.name, msg.topic, msg.partition, msg.offset, reason)

    def _send(self, topic: str, key: str, value: bytes):
        """Queue one message; the producer first waits for the topic's metadata (max_block_ms), and a
        broker still away by then is a TransientError: the batch is redone later."""
        try:
            return self.producer.send(topic, key=key.encode(), value=value)
        except KafkaTimeoutError as exc:
            raise TransientError(f"produce failed: {exc}") from exc

    def _wait(self, futures) -> None:
        if not futures:
            return
        try:
            self.producer.flush(timeout=60)
        except KafkaError as exc:  # not flushed in time (broker away): the futures tell what failed
            raise TransientError(f"produce failed: {type(exc).__name__}: {exc}") from exc
        for fut in futures:
            try:
                fut.get(timeout=60)
            except Exception as exc:
                raise TransientError(f"produce failed: {exc}") from exc

    def stop(self) -> None:
        self._stop.set()

    def install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop())

    def run(self, *, max_idle_seconds: float | None = None, max_messages: int | None = None) -> Stats:
        """Consume until stopped (signal or stop()), or until idle for `max_idle_seconds`
        (demo and tests), or after `max_messages`."""
        ensure_topics(self.settings, (*self.input_topics, *self.output_topics, TOPIC_DEAD_LETTER))
        self._consumer = make_consumer(self.settings, self.group_id, [self.settings.topic(t) for t in self.input_topics],
                                       max_poll_records=self.batch_size)
        log.info("%s: consuming %s as group %s", self.name, self.input_topics, self.group_id)
        idle_since = time.monotonic()
        backoff = 1.0
        try:
            while not self._stop.is_set():
                try:
                    polled = self._consumer.poll(timeout_ms=self.poll_timeout_ms, max_records=self.batch_size)
                except KafkaError as exc:  # broker or coordinator away; nothing was consumed
                    log.warning("%s: poll failed (%s: %s); polling again in %.0fs", self.name, type(exc).__name__,
                                exc, backoff)
                    backoff = self._pause(backoff)
                    continue
                batch = [Message.from_record(r) for records in polled.values() for r in records]
                if not batch:
                    self.on_idle()
                    if max_idle_seconds is not None and time.monotonic() - idle_since >= max_idle_seconds:
                        break
                    continue
                try:
                    self.handle_batch(batch)
                    self._commit()
                except TransientError as exc:
                    self.stats.retries += 1
                    log.warning("%s: %s; retrying the batch in %.0fs", self.name, exc, backoff)
                    self._rewind(batch)
                    backoff = self._pause(backoff)
                    continue
                backoff = 1.0
                self.stats.batches += 1
                self.stats.consumed += len(batch)
                self.stats.last_message_at = time.time()
                idle_since = time.monotonic()
                if max_messages is not None and self.stats.consumed >= max_messages:
                    break
        finally:
            self._shutdown()
        return self.stats

    def _commit(self) -> None:
        """Synchronous: after this returns, the batch is done. If the broker or the group coordinator
        went away meanwhile (kafka-python then raises connection errors out of commit), or the group
        rebalanced, the batch counts as not done and is redone (outputs are idempotent downstream)
        rather than the stage dying."""
        try:
            self._consumer.commit()
        except KafkaError as exc:
            raise TransientError(f"commit failed: {type(exc).__name__}: {exc}") from exc

    def _pause(self, backoff: float) -> float:
        """Wait `backoff` seconds (less when stopped); the next, doubled backoff."""
        self._stop.wait(backoff)
        return min(backoff * 2, 30.0)

    def _rewind(self, batch: list[Message]) -> None:
        first: dict[TopicPartition, int] = {}
        for m in batch:
            tp = TopicPartition(m.topic, m.partition)
            first[tp] = min(first.get(tp, m.offset), m.offset)
        assigned = self._consumer.assignment()
        for tp, offset in first.items():
            if tp in assigned:  # after a rebalance, a partition now consumed elsewhere is redelivered there
                self._consumer.seek(tp, offset)

    def _shutdown(self) -> None:
        try:
            self.close()
        finally:
            if self._producer is not None:
                self._producer.flush(timeout=30)
                self._producer.close(timeout=30)
            if self._consumer is not None:
                self._consumer.close(autocommit=False)
