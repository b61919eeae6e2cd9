"""Subscriptions: who wants which campaigns, how often. Stored in `newsmon-subscriptions`, one
document per e-mail address (subscribing again replaces the filters).

A subscription matches a campaign when every filter given matches:
- regions: the campaign's administration lies inside one of them (a province matches its cities
  and counties by adcode prefix); `全国` (or `national`) selects national campaigns;
- measures: the campaign shares one of them;
- query: an Elasticsearch `query_string` over the stories of the campaign, run as a search of
  `newsmon-articles` limited to those story ids (decided by the dispatcher, see `dispatch`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from elasticsearch import Elasticsearch, NotFoundError
from pydantic import BaseModel, Field

from newsmon import gazetteer
from newsmon.schemas import MEASURE_LABELS_ZH, MEASURES, stable_id, utcnow
from newsmon.settings import Settings
from search.alerts.indices import INDEX_SUBSCRIPTIONS, ensure_index

Mode = Literal["instant", "daily"]
NATIONAL_WORDS = {"全国", "national", "中国", "china"}
# Free-text queries search these fields of `newsmon-articles` (with their sub-fields).
QUERY_FIELDS = ["title*", "text*"]


class SubscriptionError(ValueError):
    """Invalid subscription input; the message is one line, fit for the CLI."""


class RegionFilter(BaseModel):
    name: str
    adcode: str
    code_prefix: str


class Subscription(BaseModel):
    email: str
    regions: list[RegionFilter] = Field(default_factory=list)
    national: bool = False
    measures: list[str] = Field(default_factory=list)
    query: str | None = None
    mode: Mode = "instant"
    paused: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def id(self) -> str:
        return subscription_id(self.email)

    def matches_structure(self, campaign: dict[str, Any]) -> bool:
        """Region and measure filters (the query is decided against Elasticsearch)."""
        if self.regions or self.national:
            adcode = next((r.get("adcode") or "" for r in campaign.get("regions", [])), "")
            inside = any(adcode.startswith(r.code_prefix) for r in self.regions) if adcode else False
            if not (inside or (self.national and campaign.get("scope") == "national")):
                return False
        return not self.measures or bool(set(self.measures) & set(campaign.get("measures", [])))

    def describe(self) -> str:
        parts = []
        if self.regions or self.national:
            parts.append("地区: " + "、".join([r.name for r in self.regions] + (["全国"] if self.national else [])))
        if self.measures:
            parts.append("措施: " + "、".join(MEASURE_LABELS_ZH[m] for m in self.measures))
        if self.query:
            parts.append(f"检索式: {self.query}")
        return "; ".join(parts) or "全部新减负行动"


def subscription_id(email: str) -> str:
    return stable_id("subscription", email.lower())


# RFC 5322 dot-atom local part (no quoted strings: nobody needs them for an alert address).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"^{_ATEXT}(?:\.{_ATEXT})*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def normalise_email(address: str) -> str:
    """A syntactically valid address (domain lower-cased, IDN to ASCII) or SubscriptionError."""
    addr = (address or "").strip()
    if not addr or any(c.isspace() or ord(c) < 32 for c in addr):
        raise SubscriptionError(f"invalid e-mail address {address!r}: empty or contains spaces/control characters")
    local, sep, domain = addr.rpartition("@")
    if not sep or not local or not domain:
        raise SubscriptionError(f"invalid e-mail address {address!r}: expected name@domain")
    if len(local) > 64 or not _LOCAL.match(local):
        raise SubscriptionError(f"invalid e-mail address {address!r}: bad characters before '@'")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise SubscriptionError(f"invalid e-mail address {address!r}: bad domain {domain!r}") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(lbl) for lbl in labels) or labels[-1].isdigit():
        raise SubscriptionError(f"invalid e-mail address {address!r}: bad domain {domain!r}")
    # lower-cased whole: one subscription per mailbox, whatever case it was typed in
    return f"{local}@{ascii_domain}".lower()


def parse_regions(names: list[str]) -> tuple[list[RegionFilter], bool]:
    regions, national = [], False
    for name in names:
        if name.strip().lower() in NATIONAL_WORDS:
            national = True
            continue
        try:
            d = gazetteer.resolve_region(name)
        except gazetteer.UnknownRegion as exc:
            raise SubscriptionError(str(exc)) from None
        if all(r.adcode != d.adcode for r in regions):
            regions.append(RegionFilter(name=d.full_name, adcode=d.adcode, code_prefix=d.code_prefix))
    return regions, national


_LABEL_TO_MEASURE = {label: m for m, label in MEASURE_LABELS_ZH.items()}


def parse_measures(names: list[str]) -> list[str]:
    """Measure keys from keys or their Chinese labels (work_groups or 微信工作群)."""
    out = []
    for name in names:
        key = name.strip()
        key = _LABEL_TO_MEASURE.get(key, key.lower())
        if key not in MEASURES:
            raise SubscriptionError(f"unknown measure {name!r} (one of: {', '.join(MEASURES)})")
        if key not in out:
            out.append(key)
    return out


def query_clause(query: str) -> dict[str, Any]:
    """The ES clause of a subscription's free-text query: all words must match unless OR is written."""
    return {"query_string": {"query": query, "fields": QUERY_FIELDS, "default_operator": "AND", "lenient": True}}


class SubscriptionStore:
    def __init__(self, es: Elasticsearch, settings: Settings):
        self.es, self.settings = es, settings
        self.index = ensure_index(es, settings, INDEX_SUBSCRIPTIONS)

    def build(self, email: str, regions: list[str], measures: list[str], query: str | None,
              mode: str) -> Subscription:
        """Validate raw CLI input into a subscription (SubscriptionError on the first problem)."""
        if mode not in ("instant", "daily"):
            raise SubscriptionError(f"unknown mode {mode!r} (instant or daily)")
        address = normalise_email(email)
        region_filters, national = parse_regions(regions)
        query = (query or "").strip() or None
        if query is not None:
            self.validate_query(query)
        return Subscription(email=address, regions=region_filters, national=national,
                            measures=parse_measures(measures), query=query, mode=mode)

    def validate_query(self, query: str) -> None:
        """Let Elasticsearch's own parser judge the query (the one that will run it)."""
        if len(query) > 1000:
            raise SubscriptionError("query too long (at most 1000 characters)")
        clause = query_clause(query)
        clause["query_string"]["lenient"] = False
        result = self.es.indices.validate_query(index=self.index, query=clause, explain=True)
        if not result.get("valid"):
            errors = [e.get("error", "") for e in result.get("explanations", []) if not e.get("valid")]
            reason = errors[0] if errors else result.get("error", "syntax error")
            reason = " ".join(str(reason).split())
            parse_error = re.search(r"ParseException: (.*)", reason)
            reason = parse_error.group(1) if parse_error else re.sub(r"^\[[^\]]*\]\s*", "", reason)
            reason = reason.split(" Was expecting")[0]
            raise SubscriptionError(f"query does not parse: {reason[:200]}")

    def save(self, sub: Subscription) -> bool:
        """Store (replace) a subscription; returns True when the address was new."""
        existing = self.get(sub.email)
        if existing is not None:
            sub.created_at, sub.paused = existing.created_at, existing.paused
        sub.updated_at = utcnow()
        self.es.index(index=self.index, id=sub.id, document={"id": sub.id, **sub.model_dump(mode="json")},
                      refresh="wait_for")
        return existing is None

    def get(self, email: str) -> Subscription | None:
        try:
            doc = self.es.get(index=self.index, id=subscription_id(email))["_source"]
        except NotFoundError:
            return None
        return Subscription.model_validate(doc)

    def remove(self, email: str) -> bool:
        resp = self.es.options(ignore_status=404).delete(index=self.index, id=subscription_id(email), refresh="wait_for")
        return resp.get("result") == "deleted"

    def set_paused(self, email: str, paused: bool) -> Subscription | None:
        sub = self.get(email)
        if sub is None:
            return None
        sub.paused, sub.updated_at = paused, utcnow()
        self.es.index(index=self.index, id=sub.id, document={"id": sub.id, **sub.model_dump(mode="json")},
                      refresh="wait_for")
        return sub

    def all(self) -> list[Subscription]:
        """Every subscription (an alerting deployment has hundreds, not millions)."""
        out, after = [], None
        while True:
            kwargs: dict[str, Any] = {"index": self.index, "size": 500, "sort": [{"email": "asc"}],
                                      "query": {"match_all": {}}}
            if after:
                kwargs["search_after"] = after
            hits = self.es.search(**kwargs)["hits"]["hits"]
            out.extend(Subscription.model_validate(h["_source"]) for h in hits)
            if len(hits) < 500:
                return out
            after = hits[-1]["sort"]

    def active(self) -> list[Subscription]:
        return [s for s in self.all() if not s.paused]
