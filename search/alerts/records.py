"""Alert records (`newsmon-alerts`): one per (campaign, subscriber), the unit of "exactly once".

Life of a record:

    created (op_type=create, deterministic id) ──► sending (lease, owner) ──► sent
          │                                          │  SMTP refused for good ► failed
          └─ daily: pending until the digest hour    └─ SMTP down ► pending, retried with backoff

Creation is create-only, so a second alerter or a redelivery finds the record and does nothing.
Moving a record to `sending` is a compare-and-set on its sequence number, so only one process sends
it; a sender that dies leaves a lease that expires, and the record is retried. The only duplicate
left possible is a crash between the SMTP server's acceptance and the `sent` write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from newsmon.schemas import stable_id
from newsmon.settings import INDEX_ALERTS, Settings
from search.alerts.indices import ensure_index

STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


def alert_id(kind: str, key: str, email: str) -> str:
    return stable_id("alert", kind, key, email.lower())


@dataclass(slots=True)
class Claimed:
    """A record this process holds the lease of, with the version to write its outcome against."""

    id: str
    doc: dict[str, Any]
    seq_no: int
    primary_term: int


class AlertRecords:
    def __init__(self, es: Elasticsearch, settings: Settings):
        self.es = es
        self.index = ensure_index(es, settings, INDEX_ALERTS)

    def create(self, doc: dict[str, Any]) -> Claimed | None:
        """Create the record unless it exists; None when it already did (someone else owns it)."""
        try:
            resp = self.es.create(index=self.index, id=doc["id"], document=doc)
        except ConflictError:
            return None
        return Claimed(doc["id"], doc, resp["_seq_no"], resp["_primary_term"])

    def get(self, record_id: str) -> dict[str, Any] | None:
        try:
            return self.es.get(index=self.index, id=record_id)["_source"]
        except NotFoundError:
            return None

    def due(self, now: datetime, limit: int = 200) -> list[Claimed]:
        """Records to send now: pending ones whose time has come, and sends whose lease expired.
        Returned unclaimed (seq_no as read): pass them to `claim`."""
        self.es.indices.refresh(index=self.index)
        iso = now.isoformat()
        query = {"bool": {"should": [
            {"bool": {"filter": [{"term": {"status": "pending"}}, {"range": {"next_attempt_at": {"lte": iso}}}]}},
            {"bool": {"filter": [{"term": {"status": "sending"}}, {"range": {"lease_until": {"lte": iso}}}]}},
        ], "minimum_should_match": 1}}
        hits = self.es.search(index=self.index, query=query, size=limit, seq_no_primary_term=True,
                              sort=[{"next_attempt_at": "asc"}])["hits"]["hits"]
        return [Claimed(h["_id"], h["_source"], h["_seq_no"], h["_primary_term"]) for h in hits]

    def claim(self, rec: Claimed, owner: str, now: datetime, lease: timedelta,
              digest_id: str | None = None) -> Claimed | None:
        """Take the record for sending (compare-and-set); None when another process changed it first."""
        changes = {"status": "sending", "owner": owner, "lease_until": (now + lease).isoformat(),
                   "updated_at": now.isoformat()}
        if digest_id:
            changes["digest_id"] = digest_id
        return self._write(rec, changes)

    def mark_sent(self, rec: Claimed, now: datetime, *, subject: str, message_id: str) -> Claimed | None:
        return self._write(rec, {"status": "sent", "sent_at": now.isoformat(), "updated_at": now.isoformat(),
                                 "subject": subject, "message_id": message_id, "lease_until": None,
                                 "attempts": rec.doc.get("attempts", 0) + 1, "last_error": None})

    def mark_retry(self, rec: Claimed, now: datetime, error: str, delay: timedelta) -> Claimed | None:
        return self._write(rec, {"status": "pending", "updated_at": now.isoformat(), "lease_until": None,
                                 "next_attempt_at": (now + delay).isoformat(), "last_error": error,
                                 "attempts": rec.doc.get("attempts", 0) + 1, "digest_id": None})

    def mark_final(self, rec: Claimed, now: datetime, status: str, error: str) -> Claimed | None:
        """failed (the server refused it for good) or cancelled (unsubscribed or paused meanwhile)."""
        return self._write(rec, {"status": status, "updated_at": now.isoformat(), "lease_until": None,
                                 "last_error": error, "attempts": rec.doc.get("attempts", 0)
                                 + (1 if status == "failed" else 0)})

    def requeue(self, record_ids: list[str], now: datetime) -> int:
        """Put failed or cancelled records back in the queue (`newsmon alerts retry`)."""
        n = 0
        for rid in record_ids:
            try:
                got = self.es.get(index=self.index, id=rid)
            except NotFoundError:
                continue
            if got["_source"]["status"] not in ("failed", "cancelled", "pending"):
                continue
            rec = Claimed(rid, got["_source"], got["_seq_no"], got["_primary_term"])
            if self._write(rec, {"status": "pending", "next_attempt_at": now.isoformat(),
                                 "updated_at": now.isoformat()}):
                n += 1
        self.es.indices.refresh(index=self.index)
        return n

    def _write(self, rec: Claimed, changes: dict[str, Any]) -> Claimed | None:
        try:
            resp = self.es.update(index=self.index, id=rec.id, doc=changes, if_seq_no=rec.seq_no,
                                  if_primary_term=rec.primary_term)
        except (ConflictError, NotFoundError):
            return None
        return Claimed(rec.id, {**rec.doc, **changes}, resp["_seq_no"], resp["_primary_term"])

    def history(self, *, email: str | None = None, since: datetime | None = None, status: str | None = None,
                limit: int = 100) -> list[dict[str, Any]]:
        self.es.indices.refresh(index=self.index)
        filters: list[dict[str, Any]] = []
        if email:
            filters.append({"term": {"email": email.lower()}})
        if since:
            filters.append({"range": {"created_at": {"gte": since.isoformat()}}})
        if status:
            filters.append({"term": {"status": status}})
        hits = self.es.search(index=self.index, query={"bool": {"filter": filters}}, size=limit,
                              sort=[{"created_at": "desc"}, {"id": "asc"}])["hits"]
        return [h["_source"] for h in hits["hits"]]
