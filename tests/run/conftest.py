"""Fixtures for the `newsmon run` / `status` / `demo` tests: the fixture news site on a free
127.0.0.1 port, a namespace of each test's own, and the CLI as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.demo_site import FixtureSite, fixture_sources_yaml
from crawler.registry import SourceRegistry
from crawler.runner import settings_env
from crawler.source import load_sources_yaml
from newsmon.es import make_es
from newsmon.settings import INDEX_ARTICLES, Settings

SITE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "site"


@pytest.fixture(scope="module")
def slow_site():
    """The fixture site with its slow page taking 1.5 s, so a crawl lasts long enough to interrupt."""
    with FixtureSite(slow_seconds=1.5) as site:
        yield site


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))


def crawlable_articles(manifest: dict) -> list[dict]:
    """Articles some fixture source reaches and the site serves (the 404 one is not an article)."""
    return [a for a in manifest["articles"] if a["sources"] and a["path"] not in manifest["missing"]]


def register_sources(settings: Settings, base_url: str) -> int:
    registry = SourceRegistry(settings)
    registry.ensure_index()
    sources = load_sources_yaml(fixture_sources_yaml(base_url))
    for s in sources:
        registry.add(s)
    return len(sources)


def cli_env(settings: Settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = settings_env(settings)
    env.update({"NEWSMON_RUN_DIR": str(tmp_path / "runs"), "NEWSMON_CRAWL_ALLOW_PRIVATE_NETWORKS": "true"})
    env.update(extra)
    return env


def newsmon(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsmon", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def indexed_stories(settings: Settings) -> list[dict]:
    es = make_es(settings)
    index = settings.index(INDEX_ARTICLES)
    es.indices.refresh(index=index)
    hits = es.search(index=index, size=1000, query={"match_all": {}},
                     source=["url", "title", "relevant", "page_key", "text"])["hits"]["hits"]
    return [{"id": h["_id"], **h["_source"]} for h in hits]


def article_of(story_url: str, manifest: dict) -> str | None:
    path = urlsplit(story_url).path
    for a in manifest["articles"]:
        if path in (a["path"], a["linked_as"]):
            return a["id"]
    return None
