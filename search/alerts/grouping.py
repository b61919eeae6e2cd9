"""Which campaign a story belongs to: the pure rules, no I/O.

A campaign is one administration (adcode) running overlapping measures over time. Stories are
filed per administration in a *ledger* (one per adcode, or per national policy document), and a
story joins an entry of its ledger when

1. it is a copy of a story already in the entry (same near-duplicate `cluster_id`), or
2. their measures overlap and the story's date lies within `lookback` of the entry's span
   (`first_seen - lookback <= t <= last_seen + lookback`; stories may arrive out of order).

Among several candidates the largest measure overlap wins, then the most recent. Otherwise the
story starts a new campaign — by definition a new one: the administration had no campaign with
overlapping measures within the lookback. The new campaign's id is derived from the ledger key and
the story that opened it. The ledger remembers every story it filed, so a redelivered story lands
where it landed the first time (the rules alone could choose differently once campaigns grew).

Story time is `published_at` (`fetched_at` when unknown), never the wall clock.

A story names several administrations (a national roundup of three counties): each runs its own
campaign. An administration listed together with one inside it (辽宁省 and 铁岭市) is dropped in
favour of the more specific one. A story with no region is national: its ledger is keyed by its
policy document (or none), and measures decide within it. Commentaries report no measure taken by
anyone, so they start no campaign.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from newsmon import gazetteer
from newsmon.schemas import MEASURES, Region, Story, stable_id

NATIONAL_NAME = "全国"


@dataclass(frozen=True, slots=True)
class Administration:
    """Who runs a campaign: a division of the gazetteer, or the nation (per policy document)."""

    key: str                       # ledger key: "adcode:211200" or "national:<policy document>"
    scope: str                     # region | national
    name: str                      # 辽宁省铁岭市 / 全国
    region: dict | None            # the DESIGN.md region shape, None for national
    prefixes: tuple[str, ...]      # adcode prefixes that contain it (province, city, itself)
    policy_document: str | None = None


@dataclass(slots=True)
class LedgerEntry:
    campaign_id: str
    measures: set[str]
    first_seen: datetime
    last_seen: datetime
    clusters: set[str] = field(default_factory=set)
    stories: set[str] = field(default_factory=set)

    def to_json(self) -> dict:
        return {"campaign_id": self.campaign_id, "measures": sorted(self.measures),
                "first_seen": self.first_seen.isoformat(), "last_seen": self.last_seen.isoformat(),
                "clusters": sorted(self.clusters), "stories": sorted(self.stories)}

    @classmethod
    def from_json(cls, d: dict) -> LedgerEntry:
        return cls(d["campaign_id"], set(d["measures"]), datetime.fromisoformat(d["first_seen"]),
                   datetime.fromisoformat(d["last_seen"]), set(d.get("clusters", [])), set(d.get("stories", [])))


def forms_campaigns(story: Story) -> bool:
    return story.relevant and story.kind != "commentary"


def story_measures(story: Story) -> set[str]:
    """The story's measures from the fixed vocabulary; a relevant story naming none did 'other'."""
    return {m for m in story.measures if m in MEASURES} or {"other"}


def story_time(story: Story, fallback: datetime) -> datetime:
    return story.published_at or story.fetched_at or fallback


def administrations(story: Story) -> list[Administration]:
    """The administrations whose campaigns this story reports, most specific first, no duplicates."""
    found: list[Administration] = []
    for region in story.regions:
        adm = _regional(region)
        if adm is not None and all(a.key != adm.key for a in found):
            found.append(adm)
    # drop an administration when one inside it is listed too (辽宁省 with 铁岭市)
    found = [a for a in found if not any(b is not a and a.region and b.region
                                         and b.region["adcode"] != a.region["adcode"]
                                         and a.prefixes[-1] in b.prefixes for b in found)]
    if found or story.regions:
        return found
    doc = normalise_document(story.policy_documents[0]) if story.policy_documents else ""
    return [Administration(key=f"national:{doc}", scope="national", name=NATIONAL_NAME, region=None,
                           prefixes=(), policy_document=doc or None)]


def normalise_document(title: str) -> str:
    return re.sub(r"[\s《》〈〉<>\"“”]", "", title)


def _regional(region: Region) -> Administration | None:
    division = gazetteer.lookup(region.adcode) if region.adcode else None
    if division is None:
        name = "".join(p for p in (region.province, region.city, region.county) if p)
        if not name:
            return None
        try:
            division = gazetteer.resolve_region(name)
        except gazetteer.UnknownRegion:
            return None
    prefixes = tuple(dict.fromkeys(
        p for p in (division.adcode[:2], division.adcode[:4] if division.level != "province" else None,
                    division.code_prefix) if p))
    return Administration(key=f"adcode:{division.adcode}", scope="region", name=division.full_name,
                          region=division.as_region(), prefixes=prefixes)


def choose_entry(entries: list[LedgerEntry], measures: set[str], cluster_id: str | None, when: datetime,
                 lookback: timedelta) -> LedgerEntry | None:
    """The entry (campaign) this story joins, or None when it starts a new campaign."""
    if cluster_id:
        copies = [e for e in entries if cluster_id in e.clusters]
        if copies:
            return max(copies, key=lambda e: e.last_seen)
    candidates = [e for e in entries
                  if e.measures & measures and e.first_seen - lookback <= when <= e.last_seen + lookback]
    if not candidates:
        return None
    return max(candidates, key=lambda e: (len(e.measures & measures), e.last_seen))


def file_story(entries: list[LedgerEntry], adm: Administration, story: Story, when: datetime,
               lookback: timedelta) -> tuple[LedgerEntry, bool]:
    """Put the story in its campaign (mutating `entries`); return the entry and whether it is new.
    A story already filed stays where it is: campaigns grow, so the rules could pick another
    entry for it the second time, and a redelivery must change nothing."""
    filed = next((e for e in entries if story.id in e.stories), None)
    if filed is not None:
        return filed, False
    measures = story_measures(story)
    entry = choose_entry(entries, measures, story.cluster_id, when, lookback)
    if entry is None:
        entry = LedgerEntry(campaign_id=campaign_id(adm.key, story.id), measures=set(measures),
                            first_seen=when, last_seen=when)
        entries.append(entry)
        created = True
    else:
        entry.measures |= measures
        entry.first_seen = min(entry.first_seen, when)
        entry.last_seen = max(entry.last_seen, when)
        created = False
    if story.cluster_id:
        entry.clusters.add(story.cluster_id)
    entry.stories.add(story.id)
    return entry, created


def campaign_id(ledger_key: str, opening_story_id: str) -> str:
    return stable_id("campaign", ledger_key, opening_story_id)
