"""Message schemas shared by every stage (the wire contract between crawler, processor,
indexer and alerter). JSON on the wire; pydantic models in code."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MEASURES: tuple[str, ...] = (
    "work_groups",         # 微信/QQ工作群
    "gov_apps",            # 政务APP、小程序
    "public_accounts",     # 政务公众号、微博、网站、新媒体账号
    "check_ins",           # 打卡、过度留痕、截图、晒照片、积分排名、在线时长
    "meetings_documents",  # 文山会海、会议、发文
    "inspections",         # 督查检查考核、评比表彰、创建示范
    "task_forces",         # 工作专班
    "forms_reports",       # 报表、台账、重复填报、一表通
    "other",
)

MEASURE_LABELS_ZH: dict[str, str] = {
    "work_groups": "微信工作群",
    "gov_apps": "政务APP",
    "public_accounts": "政务公众号",
    "check_ins": "打卡留痕",
    "meetings_documents": "文山会海",
    "inspections": "督查检查考核",
    "task_forces": "工作专班",
    "forms_reports": "报表台账",
    "other": "其他减负措施",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def stable_id(*parts: str, length: int = 20) -> str:
    """Deterministic id from parts: the same input always gives the same id (idempotent writes)."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Region(_Model):
    province: str | None = None
    city: str | None = None
    county: str | None = None
    adcode: str | None = None
    lat: float | None = None
    lon: float | None = None


class Figure(_Model):
    what: str
    value: float
    unit: str
    text: str                      # an exact substring of the story text
    measure: str | None = None


class RawPage(_Model):
    """Value of a `newsmon.raw-pages` message (key = canonical URL hash)."""

    url: str
    final_url: str
    canonical_url: str
    source_id: str
    fetched_at: datetime
    status: int
    content_type: str | None = None
    declared_encoding: str | None = None
    detected_encoding: str | None = None
    body: str                      # decoded to Unicode
    sha256: str                    # of the raw bytes
    truncated: bool = False
    outlet: str | None = None
    home_region: Region | None = None
    extraction_hints: dict[str, str] | None = None

    @property
    def key(self) -> str:
        return url_key(self.canonical_url)


def url_key(canonical_url: str) -> str:
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]


class Story(_Model):
    """Value of a `newsmon.articles` message (key = story id): one story of one page."""

    id: str
    page_key: str | None = None
    ordinal: int = 0
    source_id: str | None = None
    outlet: str | None = None
    url: str | None = None
    title: str
    title_original: str | None = None     # as written (Traditional kept)
    text: str                             # Simplified, normalised
    text_original: str | None = None
    byline: str | None = None
    script: Literal["simplified", "traditional"] = "simplified"
    published_at: datetime | None = None
    fetched_at: datetime | None = None
    relevant: bool = False
    score: float = 0.0
    measures: list[str] = Field(default_factory=list)
    regions: list[Region] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    policy_documents: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    cluster_id: str | None = None
    kind: str | None = None               # e.g. "commentary"


class DeadLetter(_Model):
    """Value of a `newsmon.dead-letter` message: what failed, where, and the original payload."""

    stage: str                     # crawler | processor | indexer | alerter
    reason: str                    # spam | invalid_json | undecodable | mapping_error | exception ...
    error: str
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    payload: str                   # original message value (text; base64 if it was not UTF-8)
    payload_encoding: Literal["utf-8", "base64"] = "utf-8"
    failed_at: datetime = Field(default_factory=utcnow)
    details: dict[str, Any] = Field(default_factory=dict)
