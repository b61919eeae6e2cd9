"""Sending alert records: instant alerts one by one, daily ones as one digest per subscriber,
admin notices; with retries and backoff while the SMTP server is away.

Every send follows claim → SMTP → mark: a record is claimed (compare-and-set to `sending` with a
lease), handed to the SMTP server, and marked `sent` only after the server accepted it. A refusal
that retrying cannot fix marks it `failed` with the server's answer; anything else puts it back to
`pending` with exponential backoff. Nothing is ever dropped without a status that says why.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from newsmon import mail
from newsmon.schemas import stable_id
from newsmon.settings import INDEX_SOURCES, Settings
from search.alerts.campaigns import CampaignStore
from search.alerts.config import AlertsConfig
from search.alerts.records import AlertRecords, Claimed
from search.alerts.subscriptions import SubscriptionStore

log = logging.getLogger(__name__)


class Skip(Exception):
    """The record must not be sent any more (status, reason)."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status


class Sender:
    def __init__(self, es: Elasticsearch, settings: Settings, config: AlertsConfig, campaigns: CampaignStore,
                 subscriptions: SubscriptionStore, records: AlertRecords, owner: str,
                 clock: Callable[[], datetime], send: Callable[..., None] = mail.send_message):
        self.es, self.settings, self.config = es, settings, config
        self.campaigns, self.subscriptions, self.records = campaigns, subscriptions, records
        self.owner, self.clock, self._send = owner, clock, send
        self.lease = timedelta(seconds=config.send_lease_seconds)

    # ------------------------------------------------------------------ the queue
    def send_due(self) -> int:
        """Send what is due: instant alerts and admin notices one by one, daily ones grouped per
        subscriber. Returns how many records were sent."""
        now = self.clock()
        due = self.records.due(now)
        sent = 0
        digests: dict[str, list[Claimed]] = defaultdict(list)
        for rec in due:
            if rec.doc.get("mode") == "daily":
                digests[rec.doc["email"]].append(rec)
                continue
            claimed = self.records.claim(rec, self.owner, now, self.lease)
            if claimed is not None:
                sent += self.send_one(claimed)
        for email, recs in digests.items():
            sent += self.send_digest(email, recs)
        return sent

    def send_one(self, rec: Claimed) -> int:
        """Send a record this process has claimed; returns 1 when it went out."""
        now = self.clock()
        try:
            rendered, to = self._render_one(rec.doc)
        except Skip as skip:
            self.records.mark_final(rec, now, skip.status, str(skip))
            return 0
        return self._deliver([rec], rendered, to, message_id=rec.id, extra={"X-Newsmon-Alert": rec.id})

    def send_digest(self, email: str, due: list[Claimed]) -> int:
        """One e-mail with every campaign due for this subscriber (records claimed one by one: a
        record another process claimed first is theirs, so no campaign goes out twice)."""
        now = self.clock()
        digest_id = stable_id("digest", email, now.isoformat(), self.owner)
        claimed = [c for c in (self.records.claim(r, self.owner, now, self.lease, digest_id) for r in due) if c]
        if not claimed:
            return 0
        sub = self.subscriptions.get(email)
        live, campaigns = [], []
        for rec in claimed:
            campaign = self.campaigns.get(rec.doc["campaign_id"])
            reason = _unsendable(sub, campaign)
            if reason:
                self.records.mark_final(rec, now, *reason)
                continue
            live.append(rec)
            campaigns.append(campaign)
        if not live:
            return 0
        campaigns.sort(key=lambda c: c.get("first_seen") or "")
        day = (datetime.fromisoformat(min(r.doc["next_attempt_at"] for r in live))
               .astimezone(self.config.tz).strftime("%Y-%m-%d"))
        rendered = mail.render_digest(campaigns, self.settings, email, sub.describe(), day)
        return self._deliver(live, rendered, email, message_id=digest_id, extra={"X-Newsmon-Digest": digest_id})

    # ------------------------------------------------------------------ rendering
    def _render_one(self, doc: dict[str, Any]) -> tuple[mail.RenderedMail, str]:
        if doc["kind"] == "campaign":
            sub = self.subscriptions.get(doc["email"])
            campaign = self.campaigns.get(doc["campaign_id"])
            reason = _unsendable(sub, campaign)
            if reason:
                raise Skip(*reason)
            return mail.render_campaign_alert(campaign, self.settings, doc["email"], sub.describe()), doc["email"]
        if doc["kind"] == "quiet_source":
            if not doc["email"]:
                raise Skip("failed", "NEWSMON_ADMIN_EMAIL is not set: nobody to tell")
            source = self._source(doc["source_id"]) or {"id": doc["source_id"], "name": doc.get("title")}
            return mail.render_quiet_source(source, doc.get("quiet_cycles") or self.config.quiet_cycles,
                                            doc.get("quiet_since")), doc["email"]
        raise Skip("failed", f"unknown alert kind {doc['kind']!r}")

    def _source(self, source_id: str) -> dict[str, Any] | None:
        try:
            return self.es.get(index=self.settings.index(INDEX_SOURCES), id=source_id)["_source"]
        except NotFoundError:
            return None

    # ------------------------------------------------------------------ SMTP and outcome
    def _deliver(self, recs: list[Claimed], rendered: mail.RenderedMail, to: str, *, message_id: str,
                 extra: dict[str, str]) -> int:
        msg = mail.build_message(rendered, to, self.settings, message_id, extra)
        try:
            self._send(self.settings, msg, to)
        except mail.SendError as exc:
            now = self.clock()
            for rec in recs:
                if exc.permanent:
                    self.records.mark_final(rec, now, "failed", str(exc))
                else:
                    self.records.mark_retry(rec, now, str(exc), self.backoff(rec.doc.get("attempts", 0)))
            log.warning("alert %s to %s not sent (%s): %s", message_id, to,
                        "gave up" if exc.permanent else "will retry", exc)
            return 0
        now = self.clock()
        for rec in recs:
            if self.records.mark_sent(rec, now, subject=rendered.subject, message_id=msg["Message-ID"]) is None:
                log.error("alert %s was sent but could not be marked sent (lease lost)", rec.id)
        log.info("sent %s to %s: %s", message_id, to, rendered.subject)
        return len(recs)

    def backoff(self, attempts_so_far: int) -> timedelta:
        return timedelta(seconds=min(self.config.retry_base_seconds * 2 ** attempts_so_far,
                                     self.config.retry_max_seconds))


def _unsendable(sub, campaign) -> tuple[str, str] | None:
    if campaign is None:
        return "failed", "campaign no longer exists"
    if sub is None:
        return "cancelled", "unsubscribed before it was sent"
    if sub.paused:
        return "cancelled", "subscription paused before it was sent"
    return None


def new_owner() -> str:
    """This process's name on the records it claims."""
    return uuid.uuid4().hex[:12]
