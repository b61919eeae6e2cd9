"""Reading and replaying `newsmon.dead-letter` (shared by the CLI and tests)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass

from newsmon.kafka import ensure_topics, read_topic, send_and_wait
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
    ensure_topics(settings, [TOPIC_DEAD_LETTER])
    for r in read_topic(settings, TOPIC_DEAD_LETTER, timeout_s):
        try:
            yield Letter(r.partition, r.offset, DeadLetter.model_validate(json.loads(r.value)))
        except (ValueError, json.JSONDecodeError):
            continue  # not one of ours


def replay(settings: Settings, letters: list[Letter]) -> int:
    """Re-queue each letter's original payload on its original topic with its original key. Letters
    whose payload was cut to fit the topic (`details.payload_truncated`) are not replayed: the head
    of a message is not the message."""
    return send_and_wait(settings, ((lt.letter.topic, (lt.letter.key or "").encode() or None, lt.payload_bytes())
                                    for lt in letters if lt.letter.topic and not lt.letter.details.get("payload_truncated")))
