"""Alerter tuning, read from NEWSMON_ALERTS_* variables (kept apart from the core settings so the
alerting subsystem can evolve without touching them)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from newsmon.settings import SettingsError


class AlertsConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSMON_ALERTS_", extra="ignore", validate_default=True)

    lookback_days: float = Field(180, gt=0, description="A campaign is new when the administration had none "
                                 "with overlapping measures within this many days (story dates)")
    digest_hour: int = Field(8, ge=0, le=23, description="Hour of the day daily digests go out")
    digest_timezone: str = Field("Asia/Shanghai", description="Time zone of digest_hour")
    retry_base_seconds: float = Field(30, gt=0, description="First retry delay of an unsent e-mail; doubles")
    retry_max_seconds: float = Field(3600, gt=0, description="Longest delay between retries")
    send_lease_seconds: float = Field(300, gt=0, description="A claimed e-mail not marked sent after this "
                                      "is retried (its sender died)")
    query_wait_seconds: float = Field(900, ge=0, description="How long a free-text subscription waits for a "
                                      "campaign's stories to become searchable before deciding without them")
    quiet_cycles: int = Field(3, ge=1, description="Crawl cycles without a published page before the admin is told")
    quiet_check_seconds: float = Field(60, gt=0, description="How often sources are checked for silence")
    timer_seconds: float = Field(5, gt=0, description="How often retries, digests and sweeps run while busy")

    @field_validator("digest_timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Asia/Shanghai)") from None
        return v

    @property
    def lookback(self) -> timedelta:
        return timedelta(days=self.lookback_days)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.digest_timezone)


def load_alerts_config(**overrides) -> AlertsConfig:
    try:
        return AlertsConfig(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ())) or "alerts"
        raise SettingsError(f"invalid NEWSMON_ALERTS_{field.upper()}: {err.get('msg', 'invalid value')}") from None
