"""Producing hostile values for the bad-input tests (reading topics back: newsmon.kafka.read_topic)."""

from __future__ import annotations

from collections.abc import Iterable

from newsmon.kafka import make_producer
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
