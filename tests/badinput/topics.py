"""Producing hostile values and reading whole topics back (no consumer group: reading moves nobody's
offsets), for the bad-input tests."""

from __future__ import annotations

from collections.abc import Iterable

from kafka import KafkaConsumer, TopicPartition

from newsmon.kafka import client_config, make_producer
from newsmon.settings import Settings
from tests.badinput.hostile import Hostile


def produce(settings: Settings, topic: str, items: Iterable[Hostile]) -> int:
    """Send every value with its key and wait for every acknowledgement; returns how many."""
    producer = make_producer(settings)
    try:
        futures = [producer.send(settings.topic(topic), key=h.key.encode("utf-8"), value=h.value) for h in items]
        producer.flush(timeout=120)
        for f in futures:
            f.get(timeout=120)
        return len(futures)
    finally:
        producer.close()


def read_topic(settings: Settings, topic: str, timeout_s: float = 20.0) -> list:
    """Every record of the topic from the beginning up to its end offsets at the time of the call."""
    consumer = KafkaConsumer(**client_config(settings), group_id=None, enable_auto_commit=False,
                             max_partition_fetch_bytes=32 * 1024 * 1024, fetch_max_bytes=64 * 1024 * 1024)
    try:
        name = settings.topic(topic)
        parts = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or [])]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        remaining = {tp for tp in parts if end[tp] > 0}
        records = []
        while remaining:
            polled = consumer.poll(timeout_ms=int(timeout_s * 1000))
            if not polled:
                raise AssertionError(f"{name}: no records within {timeout_s}s, still waiting for {remaining}")
            for tp, batch in polled.items():
                for r in batch:
                    if r.offset < end[tp]:
                        records.append(r)
                    if r.offset + 1 >= end[tp]:
                        remaining.discard(tp)
        return records
    finally:
        consumer.close()
