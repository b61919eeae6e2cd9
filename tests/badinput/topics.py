"""Producing hostile values for the bad-input tests (reading topics back: newsmon.kafka.read_topic)."""

from __future__ import annotations

from collections.abc import Iterable

from newsmon.kafka import send_and_wait
from newsmon.settings import Settings
from tests.badinput.hostile import Hostile


def produce(settings: Settings, topic: str, items: Iterable[Hostile]) -> int:
    """Send every value with its key and wait for every acknowledgement; returns how many."""
    return send_and_wait(settings, ((settings.topic(topic), h.key.encode("utf-8"), h.value) for h in items),
                         timeout_s=120)
