"""One settings object for every process, read from NEWSMON_* environment variables.

Defaults point at the local stack (`newsmon stack up`) on 127.0.0.1, so a fresh checkout works
without any configuration. Secrets are SecretStr so they never print by accident.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Fixed names from the design contract. A namespace (tests, side-by-side demos) prefixes them.
TOPIC_RAW_PAGES = "newsmon.raw-pages"
TOPIC_ARTICLES = "newsmon.articles"
TOPIC_DEAD_LETTER = "newsmon.dead-letter"
TOPIC_CRAWL_REQUESTS = "newsmon.crawl-requests"
INDEX_ARTICLES = "newsmon-articles"
INDEX_SOURCES = "newsmon-sources"
INDEX_CAMPAIGNS = "newsmon-campaigns"
INDEX_ALERTS = "newsmon-alerts"


class SettingsError(ValueError):
    """An invalid NEWSMON_* value; the message is one line, fit for the CLI."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSMON_", extra="ignore", validate_default=True)

    # --- names -------------------------------------------------------------------------------
    namespace: str = Field("", description="Prefix for every topic and index (isolates tests/demos)")

    # --- Kafka -------------------------------------------------------------------------------
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma separated")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = Field(None, description="CA bundle (PEM) that signed the brokers' certificates")
    kafka_ssl_certfile: Path | None = Field(None, description="client certificate (PEM) for mutual TLS")
    kafka_ssl_keyfile: Path | None = Field(None, description="private key (PEM) of the client certificate")
    kafka_ssl_password: SecretStr | None = Field(None, description="password of an encrypted client key")
    kafka_ssl_check_hostname: bool = Field(True, description="check the broker's certificate names its host")
    kafka_partitions: int = Field(3, ge=1, le=1000, description="Partitions for topics newsmon creates")

    # --- Elasticsearch -----------------------------------------------------------------------
    es_url: str = Field("http://127.0.0.1:9200", description="Elasticsearch URL")
    es_username: str | None = None
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = None
    es_ca_certs: Path | None = Field(None, description="CA bundle (PEM) that signed the node's certificate")
    es_verify_certs: bool = Field(True, description="verify the node's TLS certificate (keep on outside tests)")
    es_client_cert: Path | None = Field(None, description="client certificate (PEM) for mutual TLS")
    es_client_key: Path | None = Field(None, description="private key (PEM) of the client certificate")
    es_request_timeout: float = Field(30.0, gt=0)
    dedup_store: Literal["elasticsearch", "memory"] = Field(
        "elasticsearch", description="Where the processor keeps near-duplicate clusters: `elasticsearch` "
        "(index newsmon-dedup, shared by processes and restarts) or `memory` (one process only)")

    # --- SMTP / alerts -----------------------------------------------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(2525, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "newsmon <newsmon@localhost>"
    admin_email: str | None = None
    kibana_url: str = "http://127.0.0.1:5601"

    # --- crawler -----------------------------------------------------------------------------
    user_agent: str = "newsmon/0.1 (+{contact_url})"
    contact_url: str = "https://github.com/newsmon/newsmon#crawler"
    crawl_delay: float = Field(1.0, ge=0, description="Seconds between requests to one domain (AutoThrottle start)")
    crawl_concurrency_per_domain: int = Field(2, ge=1, le=64)
    crawl_autothrottle: bool = True
    crawl_timeout: float = Field(30.0, gt=0, description="Download timeout, seconds")
    crawl_max_page_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Larger pages are truncated")
    crawl_retries: int = Field(3, ge=0, le=20)
    crawl_obey_robots: bool = True
    crawl_allow_private_networks: bool = Field(
        False, description="Allow loopback/private addresses (fixture site in tests and the demo only)")
    epaper_days: int = Field(3, ge=1, le=60, description="E-paper editions fetched: today and the N-1 days before")
    demo_site_port: int = Field(8765, ge=1, le=65535, description="Port of `newsmon demo-site` on 127.0.0.1")

    # --- local stack (deploy/local) ----------------------------------------------------------
    cache_dir: Path = Field(default_factory=lambda: _default_dirs()[0], description="Downloaded Kafka/ES (outside the repo)")
    stack_dir: Path = Field(default_factory=lambda: _default_dirs()[1], description="Local stack data, logs, PIDs")
    kafka_version: str = "3.9.1"
    es_version: str = "8.19.21"
    kafka_port: int = Field(9092, ge=1, le=65535)
    kafka_controller_port: int = Field(9093, ge=1, le=65535)
    es_port: int = Field(9200, ge=1, le=65535)
    es_transport_port: int = Field(9300, ge=1, le=65535)
    kafka_heap: str = "768m"
    es_heap: str = "1g"
    stack_start_timeout: float = Field(180.0, gt=0)

    # --- newsmon run -------------------------------------------------------------------------
    run_dir: Path = Field(default_factory=lambda: _default_dirs()[1].parent / "runs",
                          description="Where `newsmon run` keeps one directory per run (logs, mail)")
    log_format: Literal["text", "json"] = Field("text", description="json: one JSON object per log line")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap(cls, v: str) -> str:
        for part in v.split(","):
            host, _, port = part.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {v!r}")
        return v

    @field_validator("es_url", "kibana_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {v!r}")
        return v.rstrip("/")

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        if v and not all(c.islower() or c.isdigit() or c == "-" for c in v):
            raise ValueError("use lower-case letters, digits and '-' only")
        return v

    # --- names with the namespace applied ------------------------------------------------------
    def topic(self, name: str) -> str:
        return f"{self.namespace}.{name}" if self.namespace else name

    def index(self, name: str) -> str:
        return f"{self.namespace}-{name}" if self.namespace else name

    @property
    def es_url_shown(self) -> str:
        """es_url without user:password@, for messages and logs."""
        return _strip_url_credentials(self.es_url)

    @property
    def crawler_user_agent(self) -> str:
        return self.user_agent.format(contact_url=self.contact_url)

    def masked(self) -> dict[str, str]:
        """Effective settings for display: secrets masked, credentials in URLs removed."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                shown = "********" if value.get_secret_value() else ""
            elif value is None:
                shown = ""
            else:
                shown = _strip_url_credentials(str(value))
            out[name] = shown
        return out


def _default_dirs() -> tuple[Path, Path]:
    """Cache and stack directories. As root, Elasticsearch runs as a system user that cannot enter
    /root, so root gets world-traversable system locations instead of the home directory."""
    if os.geteuid() == 0:
        return Path("/var/cache/newsmon"), Path("/var/lib/newsmon/stack")
    return Path.home() / ".cache" / "newsmon", Path.home() / ".local" / "share" / "newsmon" / "stack"


def _strip_url_credentials(value: str) -> str:
    if "://" in value and "@" in value.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = value.split("://", 1)
        return f"{scheme}://****@{rest.split('@', 1)[1]}"
    return value


def load_settings(**overrides) -> Settings:
    """Read settings; raise SettingsError with a one-line message on a bad value."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        env = f"NEWSMON_{field.upper()}"
        raise SettingsError(f"invalid {env}: {err.get('msg', 'invalid value')}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
