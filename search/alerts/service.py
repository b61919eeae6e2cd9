"""The alerting subsystem wired together: what the alerter consumer calls per batch and per tick."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from elasticsearch import Elasticsearch

from newsmon import mail
from newsmon.schemas import utcnow
from newsmon.settings import Settings
from search.alerts.campaigns import CampaignStore, FiledStory
from search.alerts.config import AlertsConfig
from search.alerts.delivery import Sender, new_owner
from search.alerts.dispatch import Dispatcher
from search.alerts.quiet_sources import QuietSourceWatch
from search.alerts.records import AlertRecords
from search.alerts.subscriptions import SubscriptionStore

log = logging.getLogger(__name__)


class AlertService:
    def __init__(self, es: Elasticsearch, settings: Settings, config: AlertsConfig,
                 clock: Callable[[], datetime] = utcnow, send: Callable[..., None] = mail.send_message):
        self.owner = new_owner()
        self.clock = clock
        self.config = config
        self.campaigns = CampaignStore(es, settings, config)
        self.subscriptions = SubscriptionStore(es, settings)
        self.records = AlertRecords(es, settings)
        self.dispatcher = Dispatcher(es, settings, config, self.campaigns, self.subscriptions, self.records,
                                     self.owner, clock)
        self.sender = Sender(es, settings, config, self.campaigns, self.subscriptions, self.records,
                             self.owner, clock, send)
        self.quiet = QuietSourceWatch(es, settings, config, self.records, self.owner, clock)
        self._next_quiet_check = 0.0

    def handle_stories(self, items: list[FiledStory]) -> list[str]:
        """File stories into campaigns; dispatch and send the new campaigns' instant alerts.
        Returns the new campaign ids. Raises on Elasticsearch trouble (the batch is retried);
        SMTP trouble leaves the alerts pending instead."""
        created = self.campaigns.file(items)
        for campaign_id in created:
            log.info("new campaign %s", campaign_id)
            self.dispatch_and_send(campaign_id)
        return created

    def dispatch_and_send(self, campaign_id: str) -> None:
        for claimed in self.dispatcher.dispatch(campaign_id):
            self.sender.send_one(claimed)

    def tick(self, *, check_sources: bool = False) -> None:
        """Timers: campaigns still waiting for a decision, due retries and digests, and (every
        `quiet_check_seconds`, or now with `check_sources`) quiet sources."""
        for campaign_id in self.campaigns.awaiting_dispatch():
            self.dispatch_and_send(campaign_id)
        self.sender.send_due()
        if check_sources or time.monotonic() >= self._next_quiet_check:
            self._next_quiet_check = time.monotonic() + self.config.quiet_check_seconds
            for claimed in self.quiet.check():
                self.sender.send_one(claimed)
