"""Crawler test fixtures: the fixture news site on a free 127.0.0.1 port, its manifest, and
settings in a fresh sub-namespace per test (crawl state is per namespace, so each test starts
with nothing published)."""

from __future__ import annotations

import uuid

import pytest

from crawler.demo_site import FixtureSite
from newsmon.kafka import make_admin, read_topic
from newsmon.schemas import RawPage
from newsmon.settings import TOPIC_RAW_PAGES, Settings


@pytest.fixture(scope="session")
def site():
    with FixtureSite(slow_seconds=0.5) as s:
        yield s


@pytest.fixture(scope="session")
def manifest(site) -> dict:
    return site.manifest


@pytest.fixture
def crawl_settings(settings: Settings):
    """Settings for one test: own namespace (own topics, own crawl state), the fixture site on
    127.0.0.1 allowed, politeness delays off so tests are quick."""
    ns = f"{settings.namespace}-{uuid.uuid4().hex[:6]}"
    s = settings.model_copy(update={"namespace": ns, "crawl_allow_private_networks": True, "crawl_delay": 0.0})
    yield s
    try:  # the session cleanup removes t-xxxx-* indices but only t-xxxx.* topics
        admin = make_admin(s)
        mine = [t for t in admin.list_topics() if t.startswith(ns + ".")]
        if mine:
            admin.delete_topics(mine)
        admin.close()
    except Exception as exc:
        print(f"[cleanup] {exc}")


def read_raw_pages(settings: Settings) -> list[tuple[str, RawPage]]:
    """Every message on the namespace's raw-pages topic, from the beginning: (key, page)."""
    return [(r.key.decode(), RawPage.model_validate_json(r.value)) for r in read_topic(settings, TOPIC_RAW_PAGES)]
