"""Dispatching a new campaign: decide which subscribers get it and create their alert records.

A campaign stays `status: new` until every active subscriber has been decided. The
structured filters decide at once; a free-text query is an Elasticsearch search of
`newsmon-articles` limited to the campaign's story ids, so it waits until the indexer (a parallel
consumer of the same topic) has made those stories searchable — at most `query_wait_seconds`,
after which it decides on the stories that are there, or records a visible `failed` alert when
none of them ever became searchable. Re-dispatching is harmless: records are create-only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError

from newsmon.settings import INDEX_ARTICLES, Settings
from search.alerts.campaigns import CampaignStore
from search.alerts.config import AlertsConfig
from search.alerts.records import AlertRecords, Claimed, alert_id
from search.alerts.subscriptions import Subscription, SubscriptionStore, query_clause

log = logging.getLogger(__name__)


def next_digest_at(now: datetime, config: AlertsConfig) -> datetime:
    """The next digest hour (in the configured time zone) strictly after `now`."""
    local = now.astimezone(config.tz)
    at = local.replace(hour=config.digest_hour, minute=0, second=0, microsecond=0)
    if at <= local:
        at += timedelta(days=1)
    return at.astimezone(now.tzinfo)


class Dispatcher:
    def __init__(self, es: Elasticsearch, settings: Settings, config: AlertsConfig, campaigns: CampaignStore,
                 subscriptions: SubscriptionStore, records: AlertRecords, owner: str,
                 clock: Callable[[], datetime]):
        self.es, self.settings, self.config = es, settings, config
        self.campaigns, self.subscriptions, self.records = campaigns, subscriptions, records
        self.owner, self.clock = owner, clock
        self.articles_index = settings.index(INDEX_ARTICLES)

    def dispatch(self, campaign_id: str) -> list[Claimed]:
        """Create the campaign's alert records; return the instant ones this process claimed,
        for the caller to send now."""
        campaign = self.campaigns.get(campaign_id)
        if campaign is None or campaign["status"] != "new":
            return []
        now = self.clock()
        undecided, matched, to_send = False, 0, []
        for sub in self.subscriptions.active():
            if not sub.matches_structure(campaign):
                continue
            error = None
            if sub.query:
                verdict = self._query_verdict(sub.query, campaign, now)
                if verdict is None:
                    undecided = True
                    continue
                if verdict is False:
                    continue
                if isinstance(verdict, str):
                    error = verdict
            matched += 1
            claimed = self.records.create(self._record(campaign, sub, now, error))
            if claimed is not None and claimed.doc["status"] == "sending":
                to_send.append(claimed)
        if not undecided:
            self.campaigns.set_dispatched(campaign_id, alerts=matched)
        return to_send

    def _record(self, campaign: dict[str, Any], sub: Subscription, now: datetime, error: str | None) -> dict:
        doc = {"id": alert_id("campaign", campaign["id"], sub.email), "kind": "campaign", "email": sub.email,
               "mode": sub.mode, "campaign_id": campaign["id"], "source_id": None,
               "region_name": campaign.get("region_name"), "measures": campaign.get("measures", []),
               "title": campaign.get("title"), "created_at": now.isoformat(), "updated_at": now.isoformat(),
               "attempts": 0, "last_error": error, "owner": None, "lease_until": None, "sent_at": None,
               "message_id": None, "subject": None, "digest_id": None}
        if error:
            doc.update(status="failed", next_attempt_at=now.isoformat())
        elif sub.mode == "daily":
            doc.update(status="pending", next_attempt_at=next_digest_at(now, self.config).isoformat())
        else:
            # created already claimed: the creator sends it right away
            doc.update(status="sending", next_attempt_at=now.isoformat(), owner=self.owner,
                       lease_until=(now + timedelta(seconds=self.config.send_lease_seconds)).isoformat())
        return doc

    def _query_verdict(self, query: str, campaign: dict[str, Any], now: datetime) -> bool | str | None:
        """True/False once decided; None to wait for the stories to be indexed; a string when the
        query cannot be decided at all (the reason, recorded on a failed alert)."""
        ids = campaign["stories"]
        try:
            present = self.es.count(index=self.articles_index, query={"ids": {"values": ids}})["count"]
        except NotFoundError:
            present = 0
        waited = now - datetime.fromisoformat(campaign["created_at"])
        if present < len(ids) and waited < timedelta(seconds=self.config.query_wait_seconds):
            return None
        if present == 0:
            return (f"query could not be evaluated: none of the campaign's {len(ids)} stories became "
                    f"searchable in {self.articles_index} within {self.config.query_wait_seconds:.0f}s")
        try:
            hits = self.es.count(index=self.articles_index, query={"bool": {
                "filter": [{"ids": {"values": ids}}], "must": [query_clause(query)]}})["count"]
        except BadRequestError as exc:  # the node refused the query itself: say so on the record
            return f"query failed: {exc.message}"
        return hits > 0
