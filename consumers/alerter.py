"""The alerter stage: `newsmon.articles` → campaigns in Elasticsearch → e-mail to subscribers.

Its own consumer group, so it sees every story beside the indexer. Per batch it files the relevant
stories into campaigns and mails the new campaigns' instant subscribers; offsets are committed only
after that (at-least-once), and every write is idempotent, so a redelivered batch sends nothing new.
Between batches (`on_idle`, and every few seconds while busy) it sends what is due: retries after
an SMTP outage, daily digests at their hour, campaigns still waiting for a decision, and notices
about sources that went quiet. Several alerter processes may run at once (see search/alerts/).
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from elastic_transport import TransportError
from elasticsearch import ApiError
from pydantic import ValidationError

from consumers.base import Consumer, Message, Output, PoisonMessage, TransientError
from newsmon import mail
from newsmon.es import make_es
from newsmon.schemas import Story, utcnow
from newsmon.settings import TOPIC_ARTICLES, Settings
from search.alerts.campaigns import FiledStory
from search.alerts.cas import TooMuchContention
from search.alerts.config import AlertsConfig, load_alerts_config
from search.alerts.grouping import story_time
from search.alerts.service import AlertService

log = logging.getLogger(__name__)
# Elasticsearch unreachable or overloaded, or a ledger too contended: retry the batch later.
_TRANSIENT = (TransportError, TooMuchContention)


class AlerterConsumer(Consumer):
    name = "alerter"
    input_topics = (TOPIC_ARTICLES,)
    batch_size = 200

    def __init__(self, settings: Settings, group_id: str | None = None, config: AlertsConfig | None = None,
                 clock: Callable[[], datetime] = utcnow, send: Callable[..., None] = mail.send_message):
        super().__init__(settings, group_id)
        self.config = config or load_alerts_config()
        self.es = make_es(settings)
        self.alerts = AlertService(self.es, settings, self.config, clock=clock, send=send)
        self._next_tick = 0.0

    def process(self, msg: Message) -> Iterable[Output]:
        """Validate one story message (the work is done per batch in `handle_batch`)."""
        self._parse(msg)
        return ()

    def handle_batch(self, batch: list[Message]) -> None:
        parsed: list[tuple[Message, FiledStory]] = []
        for msg in batch:
            try:
                story = self._parse(msg)
            except PoisonMessage as exc:
                self.dead_letter(msg, exc.reason, exc.error, exc.details)
                continue
            arrived = datetime.fromtimestamp(msg.timestamp_ms / 1000, UTC) if msg.timestamp_ms else utcnow()
            parsed.append((msg, FiledStory(story, story_time(story, arrived))))
        try:
            self._handle([item for _, item in parsed])
        except TransientError:
            raise
        except Exception:
            # something in the batch cannot be filed: find it story by story, dead-letter it, go on
            log.exception("alerter: batch failed; retrying story by story")
            for msg, item in parsed:
                try:
                    self._handle([item])
                except TransientError:
                    raise
                except Exception as exc:
                    self.dead_letter(msg, "exception", f"{type(exc).__name__}: {exc}",
                                     {"traceback": traceback.format_exc(limit=8)})
        self._maybe_tick()

    def _handle(self, items: list[FiledStory]) -> None:
        try:
            self.alerts.handle_stories(items)
        except _TRANSIENT as exc:
            raise TransientError(f"alerter: {type(exc).__name__}: {exc}") from exc
        except ApiError as exc:
            if exc.meta.status >= 500 or exc.meta.status == 429:
                raise TransientError(f"alerter: elasticsearch {exc.meta.status}: {exc.message}") from exc
            raise

    def on_idle(self) -> None:
        self._maybe_tick()

    def tick(self) -> None:
        """Run every timer now, the quiet-source check included (tests, tools)."""
        self.alerts.tick(check_sources=True)

    def _maybe_tick(self) -> None:
        if time.monotonic() < self._next_tick:
            return
        self._next_tick = time.monotonic() + self.config.timer_seconds
        try:
            self.alerts.tick()
        except (ApiError, *_TRANSIENT) as exc:
            # the timers run again shortly; a down Elasticsearch must not stop the consumer
            log.warning("alerter timers: %s: %s", type(exc).__name__, exc)

    def close(self) -> None:
        self.es.close()

    @staticmethod
    def _parse(msg: Message) -> Story:
        data = msg.json()
        try:
            return Story.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise PoisonMessage("invalid_message", f"not a story: {err['loc']}: {err['msg']}") from None
