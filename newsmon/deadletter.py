"""Reading and replaying `newsmon.dead-letter` (shared by the CLI and tests)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

from newsmon.kafka import client_config, ensure_topics, make_producer
from newsmon.schemas import DeadLetter
from newsmon.settings import TOPIC_DEAD_LETTER, Settings


@dataclass
class Letter:
    partition: int
    offset: int
    letter: DeadLetter

    @property
    def ref(self) -> str:
        return f"{self.partition}:{self.offset}"

    def payload_bytes(self) -> bytes:
        if self.letter.payload_encoding == "base64":
            return base64.b64decode(self.letter.payload)
        return self.letter.payload.encode("utf-8")


def read_dead_letters(settings: Settings, timeout_s: float = 10.0) -> Iterator[Letter]:
    """Every dead letter from the beginning of the topic up to its current end (no consumer group:
    reading does not move anybody's offsets)."""
    topic = ensure_topics(settings, [TOPIC_DEAD_LETTER])[0]
    consumer = KafkaConsumer(**client_config(settings), group_id=None, enable_auto_commit=False,
                             consumer_timeout_ms=int(timeout_s * 1000))
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        remaining = {tp for tp in parts if end[tp] > 0}
        while remaining:
            polled = consumer.poll(timeout_ms=int(timeout_s * 1000))
            if not polled:
                break
            for tp, records in polled.items():
                for r in records:
                    try:
                        yield Letter(r.partition, r.offset, DeadLetter.model_validate(json.loads(r.value)))
                    except (ValueError, json.JSONDecodeError):
                        continue  # not one of ours
                    if r.offset + 1 >= end[tp]:
                        remaining.discard(tp)
    finally:
        consumer.close()


def replay(settings: Settings, letters: list[Letter]) -> int:
    """Re-queue each letter's original payload on its original topic with its original key. Letters
    whose payload was cut to fit the topic (`details.payload_truncated`) are not replayed: the head
    of a message is not the message."""
    producer = make_producer(settings)
    try:
        futures = [producer.send(lt.letter.topic, key=(lt.letter.key or "").encode() or None, value=lt.payload_bytes())
                   for lt in letters if lt.letter.topic and not lt.letter.details.get("payload_truncated")]
        producer.flush(timeout=60)
        for f in futures:
            f.get(timeout=60)
        return len(futures)
    finally:
        producer.close()
