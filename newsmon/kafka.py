"""Kafka helpers shared by every stage: client configs from settings, topic creation, JSON values.

kafka-python 3.x negotiates the API version itself (LIBRARIES.md: do not pin api_version); its
producer defaults to acks=all with idempotence, which we keep and state explicitly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaTimeoutError, TopicAlreadyExistsError

from newsmon.settings import (
    TOPIC_ARTICLES,
    TOPIC_CRAWL_REQUESTS,
    TOPIC_DEAD_LETTER,
    TOPIC_RAW_PAGES,
    Settings,
)

log = logging.getLogger(__name__)

STANDARD_TOPICS = (TOPIC_RAW_PAGES, TOPIC_ARTICLES, TOPIC_DEAD_LETTER, TOPIC_CRAWL_REQUESTS)


def client_config(settings: Settings) -> dict[str, Any]:
    """Connection and security options common to producers, consumers and the admin client."""
    cfg: dict[str, Any] = {
        "bootstrap_servers": [s.strip() for s in settings.kafka_bootstrap.split(",")],
        "security_protocol": settings.kafka_security_protocol,
        "client_id": "newsmon",
        # kafka-python backs off up to 30 s between reconnects, which leaves a stage idle long after a
        # restarted broker is back; the Java client's default is 1 s
        "reconnect_backoff_max_ms": 2000,
    }
    if settings.kafka_sasl_mechanism:
        cfg["sasl_mechanism"] = settings.kafka_sasl_mechanism
        cfg["sasl_plain_username"] = settings.kafka_sasl_username
        if settings.kafka_sasl_password is not None:
            cfg["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        cfg["ssl_check_hostname"] = settings.kafka_ssl_check_hostname
        for option in ("cafile", "certfile", "keyfile"):
            path = getattr(settings, f"kafka_ssl_{option}")
            if path:
                cfg[f"ssl_{option}"] = str(path)
        if settings.kafka_ssl_password is not None:
            cfg["ssl_password"] = settings.kafka_ssl_password.get_secret_value()
    return cfg


class KafkaConnectError(KafkaTimeoutError):
    """The cluster could not be reached or refused us; the message says why in one line. Still a
    KafkaTimeoutError, so callers that retry an unreachable broker keep doing so."""


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.reasons.append(record.getMessage())


@contextlib.contextmanager
def explain_connection_errors(settings: Settings):
    """kafka-python reports a wrong password or an untrusted certificate only in its log and then
    says "Unable to bootstrap" after a timeout: keep the log's last reason and put it in the error."""
    collect = _Collect()
    logger = logging.getLogger("kafka")
    logger.addHandler(collect)
    try:
        yield
    except KafkaTimeoutError as exc:
        # "Bootstrap connection to bootstrap-0 failed: <the cause> (backoff 1.75 secs)"
        causes = [r for r in collect.reasons if " failed: " in r and not r.startswith("Bootstrap failed")]
        reason = re.sub(r"\s*\(backoff [^)]*\)$", "", causes[-1].split(" failed: ", 1)[1]) if causes else str(exc)
        if settings.kafka_security_protocol.startswith("SASL") and re.search(r"disconnected|timed out", reason, re.I):
            # a refused SASL login shows up client-side as the broker hanging up, or (when it hangs
            # up late in the bootstrap window) as the handshake request timing out
            reason += (f" (the broker hung up during the {settings.kafka_sasl_mechanism} login: check "
                       f"NEWSMON_KAFKA_SASL_USERNAME={settings.kafka_sasl_username!r} and its password)")
        raise KafkaConnectError(f"cannot connect to Kafka at {settings.kafka_bootstrap} "
                                f"({settings.kafka_security_protocol}): {reason}") from None
    finally:
        logger.removeHandler(collect)


def make_producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    """A producer that loses nothing: acks from all in-sync replicas, retries, idempotence,
    gzip (raw pages are large HTML)."""
    cfg = client_config(settings) | {
        "acks": "all",
        "retries": 2_147_483_647,
        "enable_idempotence": True,
        "compression_type": "gzip",
        "linger_ms": 20,
        "max_request_size": 16 * 1024 * 1024,
        "request_timeout_ms": 30_000,
        "delivery_timeout_ms": 120_000,
    }
    cfg.update(overrides)
    with explain_connection_errors(settings):
        return KafkaProducer(**cfg)


def make_consumer(settings: Settings, group_id: str, topics: Iterable[str] = (), **overrides: Any) -> KafkaConsumer:
    """A consumer that commits only when told to (after the downstream write succeeded)."""
    cfg = client_config(settings) | {
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_records": 100,
        "max_partition_fetch_bytes": 16 * 1024 * 1024,
        "fetch_max_bytes": 64 * 1024 * 1024,
    }
    cfg.update(overrides)
    with explain_connection_errors(settings):
        consumer = KafkaConsumer(**cfg)
    topics = list(topics)
    if topics:
        consumer.subscribe(topics)
    return consumer


def make_admin(settings: Settings, **overrides: Any) -> KafkaAdminClient:
    with explain_connection_errors(settings):
        return KafkaAdminClient(**(client_config(settings) | {"request_timeout_ms": 15_000} | overrides))


def ensure_topics(settings: Settings, names: Iterable[str] = STANDARD_TOPICS, partitions: int | None = None) -> list[str]:
    """Create the given topics (namespace applied) if missing; return the full names. Idempotent.
    The local broker has auto-creation off, so a typo in a topic name fails loudly."""
    full = [settings.topic(n) for n in names]
    admin = make_admin(settings)
    try:
        existing = set(admin.list_topics())
        missing = [n for n in full if n not in existing]
        if missing:
            new = [
                NewTopic(name=n, num_partitions=partitions or settings.kafka_partitions, replication_factor=_replication(admin))
                for n in missing
            ]
            with contextlib.suppress(TopicAlreadyExistsError):  # another process won the race
                admin.create_topics(new)
            log.info("created topics %s", missing)
    finally:
        admin.close()
    return full


def _replication(admin: KafkaAdminClient) -> int:
    brokers = admin.describe_cluster().get("brokers", [])
    return min(3, max(1, len(brokers)))


def send_and_wait(settings: Settings, messages: Iterable[tuple[str, bytes | None, bytes]], timeout_s: float = 60.0) -> int:
    """Send (full topic name, key, value) messages with one producer and wait until the broker has
    acknowledged every one (raises if it did not): for one-off writers - the scheduler's crawl
    requests, dead-letter replay, tests. Returns how many were sent."""
    producer = make_producer(settings)
    try:
        futures = [producer.send(topic, key=key, value=value) for topic, key, value in messages]
        producer.flush(timeout=timeout_s)
        for future in futures:
            future.get(timeout=timeout_s)
        return len(futures)
    finally:
        producer.close(timeout=10)


def read_topic(settings: Settings, base_topic: str, timeout_s: float = 20.0) -> list:
    """Every record of a topic (namespace applied) from the beginning up to its end offsets at the
    time of the call, read outside any consumer group, so reading moves nobody's offsets (the
    dead-letter CLI, tests, benchmarks). Raises KafkaTimeoutError when those records do not arrive
    within `timeout_s`."""
    topic = settings.topic(base_topic)
    consumer = KafkaConsumer(**client_config(settings), group_id=None, enable_auto_commit=False,
                             max_partition_fetch_bytes=32 * 1024 * 1024, fetch_max_bytes=64 * 1024 * 1024)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        remaining = {tp for tp in parts if end[tp] > 0}
        records = []
        while remaining:
            polled = consumer.poll(timeout_ms=int(timeout_s * 1000))
            if not polled:
                raise KafkaTimeoutError(f"{topic}: no records within {timeout_s:.0f}s, still waiting for "
                                        f"partitions {sorted(tp.partition for tp in remaining)}")
            for tp, batch in polled.items():
                for r in batch:
                    if r.offset < end[tp]:
                        records.append(r)
                    if r.offset + 1 >= end[tp]:
                        remaining.discard(tp)
        return records
    finally:
        consumer.close()


def dumps(value: Any) -> bytes:
    """JSON message value (UTF-8, Chinese kept readable). A lone surrogate (legal in a JSON escape,
    so it reaches us from hostile input, but not encodable in UTF-8) is written as its JSON escape
    \\udXXX by "backslashreplace" instead of failing the whole message."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8", "backslashreplace")
