"""Fixtures of the alerting tests: a real SMTP server (aiosmtpd on 127.0.0.1), settings pointing at
it, and helpers to produce stories through the real broker and run the real alerter."""

from __future__ import annotations

import threading

import pytest

from consumers.alerter import AlerterConsumer
from newsmon.es import make_es
from newsmon.kafka import dumps, ensure_topics, make_producer
from newsmon.mailcatcher import MailCatcher
from newsmon.schemas import Story
from newsmon.settings import TOPIC_ARTICLES, Settings
from search.alerts.config import AlertsConfig
from search.alerts.subscriptions import SubscriptionStore


@pytest.fixture
def catcher():
    with MailCatcher() as c:
        yield c


@pytest.fixture
def mail_settings(fresh_settings: Settings, catcher: MailCatcher) -> Settings:
    return fresh_settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": catcher.port,
                                             "smtp_security": "none", "admin_email": "admin@example.org",
                                             "kibana_url": "http://127.0.0.1:5601"})


@pytest.fixture
def fast_config() -> AlertsConfig:
    """Production rules (180-day lookback), test-sized timers."""
    return AlertsConfig(retry_base_seconds=0.5, retry_max_seconds=2, timer_seconds=0.2, query_wait_seconds=20,
                        send_lease_seconds=30, quiet_check_seconds=0.2)


@pytest.fixture
def es(mail_settings):
    client = make_es(mail_settings)
    yield client
    client.close()


@pytest.fixture
def subscribe(es, mail_settings):
    store = SubscriptionStore(es, mail_settings)

    def _subscribe(email: str, regions=(), measures=(), query=None, mode="instant"):
        sub = store.build(email, list(regions), list(measures), query, mode)
        store.save(sub)
        return sub

    return _subscribe


def produce_stories(settings: Settings, stories: list[Story]) -> None:
    ensure_topics(settings, (TOPIC_ARTICLES,))
    producer = make_producer(settings)
    futures = [producer.send(settings.topic(TOPIC_ARTICLES), key=s.id.encode(), value=dumps(s.model_dump(mode="json")))
               for s in stories]
    producer.flush(30)
    for f in futures:
        f.get(timeout=30)
    producer.close()


def run_alerter(settings: Settings, config: AlertsConfig, *, idle: float = 3.0, group: str | None = None,
                **kwargs) -> AlerterConsumer:
    """Run an alerter until the topic has been idle for `idle` seconds; return it (stats, service)."""
    alerter = AlerterConsumer(settings, group_id=group, config=config, **kwargs)
    alerter.run(max_idle_seconds=idle)
    return alerter


def run_in_thread(settings: Settings, config: AlertsConfig, **kwargs):
    """An alerter running in the background; returns (alerter, thread). Stop with alerter.stop()."""
    alerter = AlerterConsumer(settings, config=config, **kwargs)
    thread = threading.Thread(target=alerter.run, daemon=True)
    thread.start()
    return alerter, thread
