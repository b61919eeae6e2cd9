"""A news source as analysts define it: what to fetch and how to recognise article links.

One record drives one spider of the generic family (crawler.spiders): `listing` pages with
pagination, `epaper` editions addressed by date, `rss`/Atom feeds and `sitemap`s. Records are
validated here, once, so that the registry only ever holds sources a spider can run; every
problem is reported as one line (SourceError) fit for the CLI.
"""

from __future__ import annotations

import codecs
import re
from datetime import date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import parsel
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from newsmon.gazetteer import UnknownRegion, lookup, resolve_region
from newsmon.schemas import Region, utcnow

SourceType = Literal["listing", "epaper", "rss", "sitemap"]
SOURCE_TYPES: tuple[str, ...] = ("listing", "epaper", "rss", "sitemap")
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
# The date an e-paper URL template is filled with in validation (any real date would do).
_PROBE_DATE = date(2024, 2, 29)


class SourceError(ValueError):
    """An invalid source definition; the message is one line."""


def parse_duration(value: Any) -> int:
    """'15m' -> 900, '2h' -> 7200, '1d' -> 86400, 90 -> 90 (seconds)."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 2h, 1d)")
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if seconds <= 0:
        raise ValueError(f"duration must be positive, got {value!r}")
    return int(seconds)


def format_duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def check_http_url(url: str, what: str = "URL") -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"{what} {url!r} does not parse: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{what} {url!r} must be http:// or https://")
    if not parts.hostname:
        raise ValueError(f"{what} {url!r} has no host")
    return url


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LinkRule(_Strict):
    """Which links on a page count: Scrapy LinkExtractor arguments. Empty = every link in the
    allowed domains (a bare feed or sitemap needs no rule)."""

    allow: list[str] = Field(default_factory=list, description="regexes a link must match (any)")
    deny: list[str] = Field(default_factory=list, description="regexes that exclude a link")
    css: list[str] = Field(default_factory=list, description="only links inside these CSS regions")
    xpath: list[str] = Field(default_factory=list, description="only links inside these XPath regions")

    @field_validator("allow", "deny")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        for rx in v:
            try:
                re.compile(rx)
            except re.error as exc:
                raise ValueError(f"bad regex {rx!r}: {exc}") from None
        return v

    @field_validator("css")
    @classmethod
    def _css(cls, v: list[str]) -> list[str]:
        for expr in v:
            try:
                parsel.Selector(text="<html/>").css(expr)
            except Exception as exc:  # cssselect raises SelectorSyntaxError (a SyntaxError)
                raise ValueError(f"bad CSS selector {expr!r}: {exc}") from None
        return v

    @field_validator("xpath")
    @classmethod
    def _xpath(cls, v: list[str]) -> list[str]:
        for expr in v:
            _check_xpath(expr)
        return v

    @property
    def empty(self) -> bool:
        return not (self.allow or self.deny or self.css or self.xpath)


def _check_xpath(expr: str) -> None:
    try:
        parsel.Selector(text="<html/>").xpath(expr)
    except ValueError as exc:
        raise ValueError(f"bad XPath {expr!r}: {exc}") from None


class LinkRules(_Strict):
    articles: LinkRule = Field(default_factory=LinkRule, description="links to article pages (published)")
    follow: LinkRule = Field(default_factory=LinkRule,
                             description="links to more navigation pages: pagination, other e-paper pages")


class ExtractionHints(_Strict):
    body_xpath: str | None = None
    title_xpath: str | None = None

    @field_validator("body_xpath", "title_xpath")
    @classmethod
    def _xpath(cls, v: str | None) -> str | None:
        if v:
            _check_xpath(v)
        return v or None

    def as_dict(self) -> dict[str, str] | None:
        out = {k: v for k, v in self.model_dump().items() if v}
        return out or None


class CrawlResult(BaseModel):
    """Outcome of the last crawl of a source (shown by `newsmon source list`)."""

    model_config = ConfigDict(extra="ignore")
    status: Literal["ok", "partial", "failed"]
    started_at: datetime | None = None
    finished_at: datetime | None = None
    pages: int = 0
    articles_new: int = 0
    published: int = 0
    skipped_seen: int = 0
    not_modified: int = 0
    robots_blocked: int = 0
    errors: int = 0
    error_samples: list[str] = Field(default_factory=list)
    worker: str | None = None


class Source(_Strict):
    id: str
    name: str
    outlet: str
    region: Region | None = Field(None, description="home region; required by add/import (parse_source)")
    type: SourceType
    start_urls: list[str] = Field(min_length=1, description="for epaper: URL templates with {date:%Y%m%d}-style fields")
    allowed_domains: list[str] = Field(default_factory=list, description="default: the start URLs' hosts")
    link_rules: LinkRules = Field(default_factory=LinkRules)
    extraction_hints: ExtractionHints | None = None
    encoding: str | None = Field(None, description="override for pages whose charset is known to be wrong")
    interval: int = Field(1800, description="seconds between scheduled crawls; YAML accepts 15m, 2h, 1d")
    max_pages: int = Field(50, ge=1, le=10_000, description="navigation pages fetched per crawl (pagination cap)")
    epaper_days: int | None = Field(None, ge=1, le=60, description="editions back from today (default: settings)")
    epaper_anchor_date: date | None = Field(
        None, description="count editions back from this date instead of today (archives, the fixture site)")
    refresh_after: int | None = Field(
        None, description="re-fetch a published article after this long; re-published only if it changed")
    allow_private_network: bool = Field(
        False, description="fetch the hosts of the start URLs even when they resolve to a private or loopback "
                           "address (an intranet outlet); links and redirects to other hosts are still checked")
    enabled: bool = True
    verified: bool = Field(True, description="false: best known URLs, not yet confirmed reachable")
    notes: str | None = None
    added_at: datetime | None = None
    updated_at: datetime | None = None
    last_crawl: CrawlResult | None = None
    last_requested_at: datetime | None = None

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(f"id {v!r} must be a slug: lower-case letters, digits and '-' (e.g. lnrb-epaper)")
        return v

    @field_validator("name", "outlet")
    @classmethod
    def _nonempty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()

    @field_validator("region", mode="before")
    @classmethod
    def _region(cls, v: Any) -> Any:
        return None if v is None else resolve_source_region(v)

    @field_validator("interval", "refresh_after", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        return None if v is None else parse_duration(v)

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str | None) -> str | None:
        if not v:
            return None
        try:
            return codecs.lookup(v).name
        except LookupError:
            raise ValueError(f"unknown encoding {v!r}") from None

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, v: list[str]) -> list[str]:
        out = []
        for d in v:
            host = d.strip().lower().split(":")[0].rstrip(".")  # offsite checks ignore ports
            if not host or "/" in host or " " in host:
                raise ValueError(f"allowed domain {d!r} must be a host name such as www.lnd.com.cn")
            out.append(host)
        return out

    @model_validator(mode="after")
    def _urls(self) -> Source:
        for url in self.start_urls:
            concrete = url
            if self.type == "epaper":
                if "{date" not in url:
                    raise ValueError(f"epaper start URL {url!r} needs a date field such as {{date:%Y%m%d}}")
                try:
                    concrete = url.format(date=_PROBE_DATE)
                except (KeyError, IndexError, ValueError) as exc:
                    raise ValueError(f"epaper start URL {url!r}: bad template ({exc})") from None
            check_http_url(concrete, "start URL")
        if not self.allowed_domains:
            hosts = []
            for url in self.start_urls:
                host = urlsplit(url.format(date=_PROBE_DATE) if self.type == "epaper" else url).hostname or ""
                if host not in hosts:
                    hosts.append(host)
            self.allowed_domains = hosts
        return self

    @field_serializer("interval")
    def _ser_interval(self, v: int) -> str:
        return format_duration(v)

    @field_serializer("refresh_after")
    def _ser_refresh(self, v: int | None) -> str | None:
        return None if v is None else format_duration(v)

    def start_pages(self, today: date, days: int) -> list[str]:
        """Concrete start URLs; for an e-paper, each template for today and the days-1 before,
        newest first."""
        if self.type != "epaper":
            return list(self.start_urls)
        anchor = self.epaper_anchor_date or today
        n = self.epaper_days or days
        return [tpl.format(date=anchor - timedelta(days=i)) for i in range(n) for tpl in self.start_urls]

    def to_document(self) -> dict[str, Any]:
        """JSON-ready dict (durations as 15m/2h strings) for YAML and Elasticsearch."""
        return self.model_dump(mode="json", exclude_none=True)


def resolve_source_region(v: Any) -> Any:
    """A region given as '铁岭市', an adcode, or {province, city, county, adcode} -> the
    gazetteer's division (so names are official and the adcode is right)."""
    if isinstance(v, Region):
        v = v.model_dump()
    if isinstance(v, int):
        v = str(v)
    try:
        if isinstance(v, str):
            return resolve_region(v).as_region()
        if isinstance(v, dict):
            if v.get("adcode"):
                div = lookup(str(v["adcode"]))
                if div is None:
                    raise UnknownRegion(f"unknown region code {v['adcode']!r}")
                return div.as_region()
            query = "".join(str(v.get(k) or "") for k in ("province", "city", "county"))
            return resolve_region(query).as_region()
    except UnknownRegion as exc:
        raise ValueError(str(exc)) from None
    raise ValueError(f"region must be a name, an adcode or a mapping, got {type(v).__name__}")


def parse_source(data: dict[str, Any], *, now: datetime | None = None) -> Source:
    """Validate one source definition; raise SourceError with one line on the first problem."""
    if not isinstance(data, dict):
        raise SourceError(f"a source must be a mapping, got {type(data).__name__}")
    if not data.get("region"):
        raise SourceError(f"source {data.get('id', '?')}: region: required (a name such as 铁岭市 or an adcode)")
    try:
        source = Source.model_validate(data)
    except ValidationError as exc:
        ident = data.get("id", "?")
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        raise SourceError(f"source {ident}: {where + ': ' if where else ''}{msg}") from None
    stamp = now or utcnow()
    if source.added_at is None:
        source.added_at = stamp
    if source.updated_at is None:
        source.updated_at = stamp
    return source


def load_sources_yaml(text: str) -> list[Source]:
    """A YAML file of sources: a list, or a mapping with a `sources` list. All or nothing."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SourceError(f"not valid YAML: {' '.join(str(exc).split())}") from None
    if isinstance(data, dict) and "sources" in data:
        data = data["sources"]
    if not isinstance(data, list):
        raise SourceError("expected a list of sources (or a mapping with a 'sources' list)")
    sources = [parse_source(item) for item in data]
    seen: set[str] = set()
    for s in sources:
        if s.id in seen:
            raise SourceError(f"source id {s.id!r} appears twice in the file")
        seen.add(s.id)
    return sources


_EXPORT_SKIP = {"last_crawl", "last_requested_at"}


def dump_sources_yaml(sources: list[Source], *, with_state: bool = False) -> str:
    """YAML for `newsmon source export`, readable by `import` (crawl state left out unless asked)."""
    docs = []
    for s in sources:
        doc = s.to_document()
        if not with_state:
            for k in _EXPORT_SKIP:
                doc.pop(k, None)
        if doc.get("region"):
            doc["region"] = {k: v for k, v in doc["region"].items() if k in ("province", "city", "county", "adcode")}
        docs.append(_prune(doc))
    return yaml.safe_dump({"sources": docs}, allow_unicode=True, sort_keys=False, width=120)


def _prune(value: Any) -> Any:
    """Drop empty lists and mappings (unused link rules) so exported YAML reads like the input."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in ([], {})}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value
