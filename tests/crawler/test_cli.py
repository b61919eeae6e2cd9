"""`newsmon source ...`, `newsmon crawl` and the worker group, as users run them (subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest
import yaml
from kafka.partitioner.default import murmur2

from crawler.demo_site import fixture_sources, fixture_sources_yaml
from crawler.registry import SourceRegistry
from crawler.runner import settings_env

pytestmark = pytest.mark.integration
NEWSMON = [sys.executable, "-m", "newsmon"]


def cli(settings, *args, stdin: str | None = None, timeout: float = 180):
    return subprocess.run([*NEWSMON, *args], env=settings_env(settings), input=stdin, capture_output=True,
                          text=True, timeout=timeout)


def one_line_error(proc) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode != 0 and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_source_commands_end_to_end(site, crawl_settings, tmp_path):
    s = crawl_settings
    add = ["source", "add", "bj-news", "--name", "滨江日报 要闻", "--outlet", "滨江日报", "--region", "哈尔滨市",
           "--url", site.url("/news/index.html"), "--allow", r"/content/\d{4}-\d{2}/\d{2}/content_\d+\.html",
           "--css", "div.list", "--follow-allow", r"/news/index_\d+\.html"]
    assert cli(s, *add).returncode == 0

    # bad input: one line, exit code != 0, nothing stored
    assert "already exists" in one_line_error(cli(s, *add))
    bad = ["source", "add", "bad-one", "--name", "x", "--outlet", "x", "--region", "哈尔滨市"]
    assert "http" in one_line_error(cli(s, *bad, "--url", "ftp://127.0.0.1/news/"))
    assert "regex" in one_line_error(cli(s, *bad, "--url", site.url("/"), "--allow", "content_(\\d+"))
    assert "region" in one_line_error(
        cli(s, "source", "add", "bad-two", "--name", "x", "--outlet", "x", "--region", "不存在市", "--url", site.url("/")))
    assert "type" in cli(s, *bad, "--url", site.url("/"), "--type", "magazine").stderr
    assert "no source" in one_line_error(cli(s, "source", "remove", "nope"))

    # test: shows the article links of the start page, publishes nothing
    proc = cli(s, "source", "test", "bj-news", "--json")
    assert proc.returncode == 0, proc.stderr
    links = [json.loads(ln) for ln in proc.stdout.splitlines()]
    articles = {ln["url"] for ln in links if ln["verdict"] == "article"}
    assert site.url("/content/2025-03/12/content_2001.html") in articles
    assert not any("/news/index" in u for u in articles)
    assert any(ln["verdict"] == "follow" and ln["url"].endswith("/news/index_2.html") for ln in links)
    refused = one_line_error(cli(s.model_copy(update={"crawl_allow_private_networks": False}),
                                 "source", "test", "bj-news"))
    assert "non-public address 127.0.0.1" in refused

    # list shows it; import the fixture sources; export round-trips
    listed = json.loads(cli(s, "source", "list", "--json").stdout)
    assert [x["id"] for x in listed] == ["bj-news"]
    src_file = tmp_path / "sources.yaml"
    src_file.write_text(fixture_sources_yaml(site.base_url), encoding="utf-8")
    assert cli(s, "source", "import", str(src_file)).returncode == 0
    assert "already registered" in one_line_error(cli(s, "source", "import", str(src_file)))
    assert cli(s, "source", "import", str(src_file), "--update").returncode == 0
    out = tmp_path / "export.yaml"
    assert cli(s, "source", "export", str(out)).returncode == 0
    exported = yaml.safe_load(out.read_text(encoding="utf-8"))["sources"]
    assert sorted(x["id"] for x in exported) == sorted(["bj-news", *(x.id for x in fixture_sources(site.base_url))])

    # disable/enable/edit, then crawl one source from the CLI and see its last crawl in the list
    assert cli(s, "source", "disable", "bj-news").returncode == 0
    assert cli(s, "source", "edit", "bj-news", "--interval", "2h", "--max-pages", "3").returncode == 0
    assert cli(s, "source", "enable", "bj-news").returncode == 0
    proc = cli(s, "crawl", "--source", "bj-news", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.splitlines()[-1])["sources"]["bj-news"]
    assert summary["published"] > 0
    row = next(x for x in json.loads(cli(s, "source", "list", "--json").stdout) if x["id"] == "bj-news")
    assert row["interval"] == "2h" and row["last_crawl"]["published"] == summary["published"]
    assert row["articles"] == summary["published"]

    assert cli(s, "source", "remove", "bj-news").returncode == 0
    assert "bj-news" not in {x["id"] for x in json.loads(cli(s, "source", "list", "--json").stdout)}
    one_line_error(cli(s, "source", "import", str(tmp_path / "missing.yaml")))
    one_line_error(cli(s, "crawl"))


def test_private_networks_are_refused(site, crawl_settings):
    s = crawl_settings.model_copy(update={"crawl_allow_private_networks": False})
    registry = SourceRegistry(s)
    registry.add(next(x for x in fixture_sources(site.base_url) if x.id == "fixture-rss"))
    site.reset()
    proc = cli(s, "crawl", "--source", "fixture-rss", "--json")
    assert proc.returncode == 1
    summary = json.loads(proc.stdout.splitlines()[-1])["sources"]["fixture-rss"]
    assert summary["status"] == "failed" and "non-public address 127.0.0.1" in summary["error_samples"][0]
    assert site.requests == []


def _ids_across_partitions(partitions: int, per_partition: int = 2) -> list[str]:
    picked: dict[int, list[str]] = {p: [] for p in range(partitions)}
    n = 0
    while any(len(v) < per_partition for v in picked.values()):
        sid = f"worker-src-{n}"
        p = (murmur2(sid.encode()) & 0x7FFFFFFF) % partitions
        if len(picked[p]) < per_partition:
            picked[p].append(sid)
        n += 1
    return [sid for ids in picked.values() for sid in ids]


def test_two_workers_share_the_sources_without_crawling_any_twice(site, crawl_settings):
    s = crawl_settings
    registry = SourceRegistry(s)
    templates = [x for x in fixture_sources(site.base_url) if x.id in ("fixture-rss", "fixture-atom", "fixture-epaper")]
    ids = _ids_across_partitions(s.kafka_partitions)
    sources = [templates[i % len(templates)].model_copy(update={"id": sid}) for i, sid in enumerate(ids)]
    for src in sources:
        registry.add(src)

    workers, outputs = [], []
    for _ in range(2):
        proc = subprocess.Popen([*NEWSMON, "crawl", "--worker", "--json", "--idle-exit", "12"], env=settings_env(s),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: list[dict] = []
        threading.Thread(target=lambda p=proc, out=lines: out.extend(json.loads(ln) for ln in p.stdout),
                         daemon=True).start()
        workers.append(proc)
        outputs.append(lines)
    try:
        # wait until the group has settled: both workers own partitions, together all of them
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            latest = [next((e["partitions"] for e in reversed(out) if e["event"] == "assigned"), []) for out in outputs]
            if all(latest) and sorted(latest[0] + latest[1]) == list(range(s.kafka_partitions)):
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"consumer group did not settle: {outputs}")
        scheduled = cli(s, "schedule", "--once")  # every source is due: none was crawled yet
        assert scheduled.returncode == 0 and f"requested {len(ids)} crawl(s)" in scheduled.stdout, scheduled.stderr
        for proc in workers:
            proc.wait(timeout=240)
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
    crawled = [(w, e["source"]) for w, out in enumerate(outputs) for e in out if e["event"] == "crawled"]
    per_source = {sid: [w for w, x in crawled if x == sid] for sid in ids}
    assert all(len(ws) == 1 for ws in per_source.values()), per_source
    assert {w for w, _ in crawled} == {0, 1}, "both workers should have crawled"
    for sid in ids:
        assert registry.get(sid).last_crawl.worker is not None
    assert "requested 0 crawl(s)" in cli(s, "schedule").stdout  # crawled just now: nothing is due
    assert os.environ.get("NEWSMON_NAMESPACE") != s.namespace  # the workers used the test's own namespace
