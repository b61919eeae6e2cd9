"""Quiet sources: an enabled source whose last N crawls published nothing gets the admin one e-mail.

The crawler records only the *last* crawl of each source (`last_crawl` in `newsmon-sources`), so
the alerter counts cycles itself: a watch document per source (in `newsmon-alerter-state`) notes
the last crawl it has seen (`finished_at`) and how many crawls in a row published no page. Each new
crawl is counted once, even with several alerters, because the watch is updated by compare-and-set.
The notice's record id is derived from the source and the start of the quiet streak, so a streak
is reported once however long it lasts; a crawl that publishes again ends the streak.

A crawl counts as quiet when it put no page on `newsmon.raw-pages` (`last_crawl.published == 0`),
whether it found nothing new or failed. Crawls that happen while no alerter runs are not seen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from newsmon.schemas import stable_id
from newsmon.settings import INDEX_SOURCES, Settings
from search.alerts.cas import read_modify_write
from search.alerts.config import AlertsConfig
from search.alerts.indices import INDEX_ALERTER_STATE, ensure_index
from search.alerts.records import AlertRecords, Claimed, alert_id
from search.alerts.subscriptions import SubscriptionError, normalise_email

log = logging.getLogger(__name__)


def count_cycle(watch: dict[str, Any] | None, source_id: str, last_crawl: dict[str, Any],
                now: datetime) -> dict[str, Any] | None:
    """The watch after seeing `last_crawl`, or None when that crawl was already counted."""
    finished = last_crawl.get("finished_at")
    if watch is not None and watch.get("last_crawl_finished_at") == finished:
        return None
    watch = watch or {"kind": "source_watch", "key": source_id, "source_id": source_id, "quiet_cycles": 0,
                      "quiet_since": None, "alerted_streak": None}
    watch["last_crawl_finished_at"] = finished
    watch["updated_at"] = now.isoformat()
    if int(last_crawl.get("published") or 0) == 0:
        watch["quiet_cycles"] = int(watch.get("quiet_cycles") or 0) + 1
        watch["quiet_since"] = watch.get("quiet_since") or last_crawl.get("started_at") or finished
    else:
        watch.update(quiet_cycles=0, quiet_since=None, alerted_streak=None)
    return watch


class QuietSourceWatch:
    def __init__(self, es: Elasticsearch, settings: Settings, config: AlertsConfig, records: AlertRecords,
                 owner: str, clock: Callable[[], datetime]):
        self.es, self.settings, self.config, self.records = es, settings, config, records
        self.owner, self.clock = owner, clock
        self.state_index = ensure_index(es, settings, INDEX_ALERTER_STATE)
        self.sources_index = settings.index(INDEX_SOURCES)

    def check(self) -> list[Claimed]:
        """Count new crawl cycles; create the notices of streaks that reached the threshold and
        return those this process created (claimed, to send now)."""
        now = self.clock()
        created = []
        for source in self._enabled_sources():
            last = source.get("last_crawl") or {}
            if not last.get("finished_at"):
                continue
            sid = source["id"]
            watch, _ = read_modify_write(self.es, self.state_index, stable_id("source_watch", sid),
                                         lambda doc, s=sid, lc=last: count_cycle(doc, s, lc, now))
            if (watch is None or watch["quiet_cycles"] < self.config.quiet_cycles
                    or watch.get("alerted_streak") == watch["quiet_since"]):
                continue
            claimed = self.records.create(self._notice(source, watch, now))
            if claimed is not None:
                created.append(claimed)
            streak = watch["quiet_since"]
            read_modify_write(self.es, self.state_index, stable_id("source_watch", sid),
                              lambda doc, st=streak: _mark_alerted(doc, st))
        return created

    def _notice(self, source: dict[str, Any], watch: dict[str, Any], now: datetime) -> dict[str, Any]:
        admin, problem = "", "NEWSMON_ADMIN_EMAIL is not set: nobody to tell"
        if self.settings.admin_email:
            try:
                admin, problem = normalise_email(self.settings.admin_email), ""
            except SubscriptionError as exc:
                problem = f"NEWSMON_ADMIN_EMAIL: {exc}"
        doc = {"id": alert_id("quiet_source", f"{source['id']}@{watch['quiet_since']}", admin or "-"),
               "kind": "quiet_source", "email": admin, "mode": "instant", "campaign_id": None,
               "source_id": source["id"], "title": source.get("name") or source["id"],
               "region_name": None, "measures": [], "quiet_cycles": watch["quiet_cycles"],
               "quiet_since": watch["quiet_since"], "created_at": now.isoformat(), "updated_at": now.isoformat(),
               "next_attempt_at": now.isoformat(), "attempts": 0, "sent_at": None, "message_id": None,
               "subject": None, "digest_id": None}
        if problem:
            log.error("source %s is quiet but the admin cannot be told: %s", source["id"], problem)
            return doc | {"status": "failed", "last_error": problem, "owner": None, "lease_until": None}
        return doc | {"status": "sending", "owner": self.owner, "last_error": None,
                      "lease_until": (now + timedelta(seconds=self.config.send_lease_seconds)).isoformat()}

    def _enabled_sources(self) -> list[dict[str, Any]]:
        try:
            hits = self.es.search(index=self.sources_index, query={"term": {"enabled": True}}, size=1000,
                                  source_includes=["id", "name", "outlet", "enabled", "last_crawl"])
        except NotFoundError:
            return []  # no source registry yet
        return [h["_source"] for h in hits["hits"]["hits"] if h["_source"].get("id")]


def _mark_alerted(doc: dict[str, Any] | None, streak: str) -> dict[str, Any] | None:
    if doc is None or doc.get("quiet_since") != streak or doc.get("alerted_streak") == streak:
        return None
    doc["alerted_streak"] = streak
    return doc

