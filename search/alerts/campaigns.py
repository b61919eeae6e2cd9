"""Campaigns in Elasticsearch: the ledger decisions and the campaign documents analysts see.

Filing a batch of stories takes two race-free steps per administration:

1. **Decide** under the administration's ledger (`newsmon-alerter-state`, one document per
   adcode or national policy document). The ledger is read, the stories are filed with the pure
   rules of `grouping`, and written back with `if_seq_no` — so when two alerter processes see two
   different first stories of one campaign at the same moment, one write wins, the other re-reads,
   finds the winner's entry and joins it. Exactly one campaign id comes out.
2. **Record** the stories in the campaign document (`newsmon-campaigns`, id = campaign id), created
   with `op_type=create` or merged with `if_seq_no`. Whoever *creates* it gives it `status: new`:
   that is what makes a campaign new, and it stays so, across crashes, until its subscribers have
   all been decided (dispatch), when it becomes `active`.

Both steps are idempotent, so a redelivered story changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from newsmon.schemas import MEASURE_LABELS_ZH, MEASURES, Region, Story, stable_id, utcnow
from newsmon.settings import Settings
from search.alerts.cas import read_modify_write
from search.alerts.config import AlertsConfig
from search.alerts.grouping import (
    Administration,
    LedgerEntry,
    administrations,
    file_story,
    forms_campaigns,
    story_measures,
)
from search.alerts.indices import INDEX_ALERTER_STATE, ensure_campaigns, ensure_index
from search.documents import region_codes

MAX_FIGURES = 6
MAX_STORIES_KEPT = 500       # a years-long campaign keeps counting, but lists its first 500 stories


@dataclass(slots=True)
class FiledStory:
    story: Story
    when: datetime


class CampaignStore:
    def __init__(self, es: Elasticsearch, settings: Settings, config: AlertsConfig):
        self.es, self.settings, self.config = es, settings, config
        self.index = ensure_campaigns(es, settings)
        self.state_index = ensure_index(es, settings, INDEX_ALERTER_STATE)

    # ------------------------------------------------------------------ filing
    def file(self, items: list[FiledStory]) -> list[str]:
        """File relevant stories into campaigns; return the ids of campaigns this call created."""
        by_ledger: dict[str, tuple[Administration, list[FiledStory]]] = {}
        for item in items:
            if not forms_campaigns(item.story):
                continue
            for adm in administrations(item.story):
                by_ledger.setdefault(adm.key, (adm, []))[1].append(item)
        per_campaign: dict[str, tuple[Administration, list[FiledStory]]] = {}
        for adm, filed in by_ledger.values():
            for campaign_id, members in self._decide(adm, filed).items():
                per_campaign[campaign_id] = (adm, members)
        created = []
        for campaign_id, (adm, members) in per_campaign.items():
            if self._record(campaign_id, adm, members):
                created.append(campaign_id)
        return created

    def _decide(self, adm: Administration, filed: list[FiledStory]) -> dict[str, list[FiledStory]]:
        assignment: dict[str, list[FiledStory]] = {}

        def mutate(doc: dict | None) -> dict:
            assignment.clear()
            entries = [LedgerEntry.from_json(e) for e in (doc or {}).get("entries", [])]
            # oldest first, so that a batch holding a campaign's whole history opens it with its first story
            for item in sorted(filed, key=lambda f: (f.when, f.story.id)):
                entry, _ = file_story(entries, adm, item.story, item.when, self.config.lookback)
                assignment.setdefault(entry.campaign_id, []).append(item)
            return {"kind": "ledger", "key": adm.key, "entries": [e.to_json() for e in entries],
                    "updated_at": utcnow().isoformat()}

        read_modify_write(self.es, self.state_index, stable_id("ledger", adm.key), mutate)
        return assignment

    def _record(self, campaign_id: str, adm: Administration, members: list[FiledStory]) -> bool:
        now = utcnow()

        def mutate(doc: dict | None) -> dict | None:
            if doc is None:
                doc = _new_campaign(campaign_id, adm, now)
            elif all(m.story.id in doc["stories"] for m in members):
                return None  # a redelivery: nothing to change
            for m in members:
                _add_story(doc, m.story, m.when)
            doc["updated_at"] = now.isoformat()
            return doc

        _, created = read_modify_write(self.es, self.index, campaign_id, mutate)
        return created

    # ------------------------------------------------------------------ reading and dispatch state
    def get(self, campaign_id: str) -> dict[str, Any] | None:
        try:
            return self.es.get(index=self.index, id=campaign_id)["_source"]
        except NotFoundError:
            return None

    def awaiting_dispatch(self, limit: int = 100) -> list[str]:
        """Campaigns still `new`: some subscriber has not been decided yet."""
        self.es.indices.refresh(index=self.index)
        hits = self.es.search(index=self.index, size=limit, source=False, sort=[{"created_at": "asc"}],
                              query={"term": {"status": "new"}})
        return [h["_id"] for h in hits["hits"]["hits"]]

    def set_dispatched(self, campaign_id: str, *, alerts: int) -> None:
        now = utcnow()

        def mutate(doc: dict | None) -> dict | None:
            if doc is None or doc["status"] != "new":
                return None
            doc.update(status="active", alerted_at=now.isoformat(), alert_count=alerts)
            return doc

        read_modify_write(self.es, self.index, campaign_id, mutate)


def _new_campaign(campaign_id: str, adm: Administration, now: datetime) -> dict[str, Any]:
    regions = [Region(**adm.region)] if adm.region else []
    return {
        "id": campaign_id, "scope": adm.scope, "region_name": adm.name,
        "regions": [_region_doc(r) for r in regions], "region_codes": region_codes(regions),
        "measures": [], "measure_labels": [],
        "policy_documents": [adm.policy_document] if adm.policy_document else [],
        "title": "", "summary": "", "first_seen": None, "last_seen": None,
        "created_at": now.isoformat(), "updated_at": now.isoformat(),
        "story_count": 0, "stories": [], "story_details": [], "outlets": [], "outlet_count": 0,
        "best_figures": [], "status": "new", "alerted_at": None, "alert_count": 0,
    }


def _region_doc(r: Region) -> dict[str, Any]:
    doc: dict[str, Any] = {"province": r.province, "city": r.city, "county": r.county, "adcode": r.adcode}
    if r.lat is not None and r.lon is not None:
        doc["location"] = {"lat": r.lat, "lon": r.lon}
    return doc


def _add_story(doc: dict[str, Any], story: Story, when: datetime) -> None:
    if story.id in doc["stories"]:
        return
    doc["stories"].append(story.id)
    doc["story_count"] += 1
    when_iso = when.isoformat()
    if len(doc["story_details"]) < MAX_STORIES_KEPT:
        doc["story_details"].append({"id": story.id, "title": story.title, "url": story.url, "outlet": story.outlet,
                                     "published_at": when_iso})
        doc["story_details"].sort(key=lambda s: (s["published_at"] or "", s["id"]))
    for m in sorted(story_measures(story), key=lambda m: (story.measures + list(MEASURES)).index(m)):
        if m not in doc["measures"]:
            doc["measures"].append(m)
    doc["measure_labels"] = [MEASURE_LABELS_ZH[m] for m in doc["measures"]]
    if story.outlet and story.outlet not in doc["outlets"]:
        doc["outlets"].append(story.outlet)
    doc["outlet_count"] = len(doc["outlets"])
    for title in story.policy_documents:
        if title not in doc["policy_documents"]:
            doc["policy_documents"].append(title)
    opens = doc["first_seen"] is None or when_iso < doc["first_seen"]
    if opens or not doc["title"]:
        doc["title"], doc["summary"] = story.title, lead_summary(story.text)
    doc["first_seen"] = when_iso if doc["first_seen"] is None else min(doc["first_seen"], when_iso)
    doc["last_seen"] = when_iso if doc["last_seen"] is None else max(doc["last_seen"], when_iso)
    doc["best_figures"] = best_figures(doc["best_figures"] + [
        {"what": f.what, "value": f.value, "unit": f.unit, "text": f.text, "measure": f.measure,
         "story_id": story.id} for f in story.figures], doc["measures"], [s["id"] for s in doc["story_details"]])


def best_figures(figures: list[dict], measures: list[str], story_order: list[str]) -> list[dict]:
    """Distinct figures, those about the campaign's measures first, earliest story first."""
    seen, unique = set(), []
    for f in figures:
        key = (f["what"], f["value"], f["unit"])
        if key not in seen:
            seen.add(key)
            unique.append(f)
    rank = {sid: i for i, sid in enumerate(story_order)}
    order = {id(f): i for i, f in enumerate(unique)}
    unique.sort(key=lambda f: (f.get("measure") not in (None, *measures), rank.get(f["story_id"], len(rank)),
                               order[id(f)]))
    return unique[:MAX_FIGURES]


# A dateline or byline in front of the lead sentence says nothing about the campaign.
_DATELINE = re.compile(
    r"^\s*(?:本报讯|本报[^\s，,。]{0,8}电|新华社[^\s，,。]{0,12}电|[^\s，,。]{0,10}网讯)?\s*"
    r"(?:[（(][^）)]{0,30}[）)]|记者[^\s，,。]{1,20}(?:报道)?)?\s*")


def lead_summary(text: str, limit: int = 200) -> str:
    """The story's lead — its first paragraph (datelines removed), up to `limit` characters cut at a
    sentence end; a lead shorter than a sentence or two borrows from the next paragraph."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n", text) if p.strip()]
    lead = ""
    for paragraph in paragraphs:
        lead = f"{lead}{paragraph}" if not lead else f"{lead} {paragraph}"
        if len(lead) >= 60:
            break
    lead = _DATELINE.sub("", lead, count=1)
    out = ""
    for sentence in re.findall(r"[^。！？!?]+[。！？!?]?", lead):
        if out and len(out) + len(sentence) > limit:
            break
        out += sentence
    if len(out) > limit:
        out = out[: limit - 1] + "…"
    return out.strip()
