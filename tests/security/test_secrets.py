"""Secrets are never printed or logged: `newsmon config`, the consumers, the crawler and the mail test
run with every secret setting (and an Elasticsearch URL with user:password@) set to marker strings,
against servers that work and servers that are not there; no marker may appear in any output, error
message or log file they write."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crawler.runner import settings_env
from newsmon.mailcatcher import free_port
from newsmon.settings import Settings

MARKERS = {
    "es_password": "ES-PASSWORD-MARKER-5e1",
    "es_api_key": "ES-API-KEY-MARKER-8b2",
    "kafka_sasl_password": "KAFKA-SASL-MARKER-c73",
    "kafka_ssl_password": "KAFKA-SSL-KEY-MARKER-4d0",
    "smtp_password": "SMTP-PASSWORD-MARKER-a19",
}
URL_MARKER = "URL-PASSWORD-MARKER-f66"


def secret_env(settings: Settings, tmp_path: Path, **over) -> dict[str, str]:
    env = settings_env(settings)
    env.update({f"NEWSMON_{k.upper()}": v for k, v in MARKERS.items()})
    env.update({"NEWSMON_ES_USERNAME": "newsmon", "NEWSMON_SMTP_USER": "newsmon", "NEWSMON_KAFKA_SASL_USERNAME": "newsmon",
                "NEWSMON_RUN_DIR": str(tmp_path / "runs"), "NEWSMON_LOG_LEVEL": "DEBUG"})
    env.update(over)
    return env


def run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsmon", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for marker in [*MARKERS.values(), URL_MARKER]:
            assert marker not in text, f"{marker} leaked: ...{text[max(0, text.find(marker) - 200):][:400]}"


def test_config_masks_every_secret_and_url_credentials(settings, tmp_path):
    env = secret_env(settings, tmp_path, NEWSMON_ES_URL=f"http://newsmon:{URL_MARKER}@127.0.0.1:9200",
                     NEWSMON_KIBANA_URL=f"http://kibana:{URL_MARKER}@127.0.0.1:5601")
    proc = run(env, "config")
    assert proc.returncode == 0, proc.stderr
    assert_no_secret(proc.stdout, proc.stderr)
    assert "********" in proc.stdout


@pytest.mark.integration
def test_consumers_crawler_and_mail_never_show_a_secret_when_their_servers_fail(settings, tmp_path):
    closed = free_port()
    broken = secret_env(settings, tmp_path, NEWSMON_KAFKA_BOOTSTRAP=f"127.0.0.1:{closed}",
                        NEWSMON_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT", NEWSMON_KAFKA_SASL_MECHANISM="PLAIN",
                        NEWSMON_ES_URL=f"http://newsmon:{URL_MARKER}@127.0.0.1:{closed}",
                        NEWSMON_SMTP_PORT=str(closed), NEWSMON_ES_REQUEST_TIMEOUT="3")
    outputs = []
    for args in (["consume", "processor", "--max-idle-seconds", "1"],
                 ["consume", "indexer", "--max-idle-seconds", "1"],
                 ["source", "list"],
                 ["crawl", "--all", "--once"],
                 ["alerts", "test", "analyst@example.org"]):
        proc = run(broken, *args, timeout=180)
        assert proc.returncode != 0, (args, proc.stdout[-500:])
        assert proc.stderr.strip().splitlines()[-1].startswith("error: "), (args, proc.stderr[-2000:])
        outputs += [proc.stdout, proc.stderr]
    # against the working local stack (its Elasticsearch has no security and ignores credentials)
    working = secret_env(settings, tmp_path, NEWSMON_ES_URL=f"http://newsmon:{URL_MARKER}@127.0.0.1:{settings.es_port}")
    working.pop("NEWSMON_ES_API_KEY")   # an API key would win over the URL's basic auth
    for args in (["source", "list"], ["consume", "indexer", "--max-idle-seconds", "1"]):
        proc = run(working, *args, timeout=180)
        assert proc.returncode == 0, (args, proc.stderr[-2000:])
        outputs += [proc.stdout, proc.stderr]
    logs = [p.read_text(errors="replace") for p in (tmp_path / "runs").rglob("*") if p.is_file()]
    assert_no_secret(*outputs, *logs)
