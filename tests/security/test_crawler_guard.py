"""SSRF guard of the crawler (crawler/middlewares.py PrivateNetworkGuard).

Already covered in tests/crawler: `source add` refuses ftp: start URLs, source validation refuses
them (test_units), and a crawl or `source test` of the fixture site on 127.0.0.1 is refused when
private networks are not allowed (test_cli). Here: every non-http(s) scheme, every kind of
non-public address (after DNS resolution, with a resolver override to play a public name that
resolves privately), the per-source exemption, and a real crawl whose article links redirect to
other local names, to the cloud metadata address and to file: — all refused, the rest published."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawler.middlewares import PrivateNetworkGuard
from crawler.registry import SourceRegistry
from crawler.runner import settings_env
from crawler.source import SourceError, parse_source
from newsmon.kafka import make_admin, read_topic

SCHEMES = ["file:///etc/passwd", "ftp://127.0.0.1/a.html", "gopher://127.0.0.1:70/_GET", "data:text/html,<p>x</p>",
           "javascript:alert(1)", "JavaScript:alert(1)", "mailto:a@example.org", "s3://bucket/key", "//no-scheme/x"]
PRIVATE = ["http://127.0.0.1/", "http://127.1/", "http://2130706433/", "http://0.0.0.0/", "http://10.1.2.3/",
           "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/",
           "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/", "http://[fd00::1]/", "http://100.64.0.1/",
           "http://224.0.0.1/", "http://localhost:9200/", "http://LOCALHOST./"]


class _Stats:
    def inc_value(self, *_a):
        pass


def _fake_dns(names: dict[str, list[str]]):
    def resolve(host: str) -> list[str]:
        if host not in names:
            raise OSError(f"unknown host {host}")
        return names[host]
    return resolve


@pytest.mark.parametrize("url", SCHEMES)
def test_only_http_and_https_are_fetched_even_when_private_networks_are_allowed(url):
    for allow in (False, True):
        reason = PrivateNetworkGuard(allow, _Stats()).verdict(url)
        assert reason and ("is not http or https" in reason or reason == "no host"), (url, reason)


@pytest.mark.parametrize("url", PRIVATE)
def test_loopback_private_link_local_and_reserved_addresses_are_refused_after_resolution(url):
    reason = PrivateNetworkGuard(False, _Stats()).verdict(url)
    assert reason and "resolves to non-public address" in reason
    assert PrivateNetworkGuard(True, _Stats()).verdict(url) is None   # test mode (fixture site, demo)


def test_a_public_name_that_resolves_privately_is_refused():
    dns = _fake_dns({"news.example.cn": ["93.184.216.34"], "rebind.example.cn": ["93.184.216.34", "10.0.0.7"],
                     "metadata.example.cn": ["169.254.169.254"], "v6.example.cn": ["2606:2800:220:1::1", "::1"]})
    guard = PrivateNetworkGuard(False, _Stats(), resolve=dns)
    assert guard.verdict("https://news.example.cn/a.html") is None
    assert "10.0.0.7" in guard.verdict("https://rebind.example.cn/a.html")     # any private answer refuses
    assert "169.254.169.254" in guard.verdict("http://metadata.example.cn/")
    assert "::1" in guard.verdict("http://v6.example.cn/")
    assert guard.verdict("http://nowhere.example.cn/") is None                 # DNS error: the download reports it


def test_a_source_allowed_on_a_private_network_covers_its_start_hosts_only():
    dns = _fake_dns({"intranet.example.cn": ["10.0.0.5"], "www.intranet.example.cn": ["10.0.0.6"],
                     "other.example.cn": ["10.0.0.9"]})
    source = parse_source({"id": "intranet", "name": "内网", "outlet": "内网", "region": "铁岭市", "type": "listing",
                           "start_urls": ["http://intranet.example.cn/news/"], "allow_private_network": True})
    guard = PrivateNetworkGuard(False, _Stats(), resolve=dns)
    assert guard.verdict("http://intranet.example.cn/a.html", source) is None
    assert "10.0.0.6" in guard.verdict("http://www.intranet.example.cn/a.html", source)  # in its domain, not named
    assert "10.0.0.9" in guard.verdict("http://other.example.cn/", source)      # a redirect elsewhere
    assert "is not http" in guard.verdict("file:///etc/passwd", source)
    plain = source.model_copy(update={"allow_private_network": False})
    assert "10.0.0.5" in guard.verdict("http://intranet.example.cn/a.html", plain)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://x.example.cn/", "data:text/html,x",
                                 "javascript:alert(1)", "ftp://x.example.cn/"])
def test_sources_with_non_http_start_urls_are_refused(url):
    with pytest.raises(SourceError, match="must be http:// or https://"):
        parse_source({"id": "bad", "name": "x", "outlet": "x", "region": "铁岭市", "type": "listing",
                      "start_urls": [url]})


# ---------------------------------------------------------------------------------- a real crawl
class _Site(BaseHTTPRequestHandler):
    """A listing on 127.0.0.1 whose article links redirect to other local names, the metadata
    address and file:, and carry non-http links; one article is real."""

    port = 0
    seen: list[tuple[str, str]] = []

    def do_GET(self):  # noqa: N802 - http.server's hook name
        self.seen.append((self.headers.get("Host", ""), self.path))
        here = f"http://127.0.0.1:{self.port}"
        redirects = {"/a/1.html": f"http://localhost:{self.port}/a/secret.html",
                     "/a/2.html": "http://169.254.169.254/latest/meta-data/",
                     "/a/3.html": "file:///etc/passwd",
                     "/a/6.html": f"http://[::1]:{self.port}/a/secret.html"}   # off the allowed domains
        if self.path in redirects:
            self.send_response(302)
            self.send_header("Location", redirects[self.path])
            self.end_headers()
            return
        if self.path == "/news/":
            links = ["/a/1.html", "/a/2.html", "/a/3.html", "/a/4.html", "/a/6.html", "file:///etc/a/passwd",
                     f"gopher://127.0.0.1:{self.port}/a/x", f"ftp://127.0.0.1:{self.port}/a/y.html",
                     "data:text/html,<p>/a/z.html</p>", "javascript:alert('/a/5.html')"]
            body = "".join(f"<li><a href=\"{u}\">新闻 {i}</a></li>" for i, u in enumerate(links))
            return self._page(f"<html><body><ul class='list'>{body}</ul></body></html>")
        if self.path == "/a/4.html":
            return self._page("<html><head><title>铁岭清理微信工作群</title></head><body><div class='content'>"
                              "<p>铁岭市清理规范微信工作群、政务APP，为基层干部减负。</p></div></body></html>")
        self.send_error(404)
        assert here  # keeps `here` for readability of the routes above

    def _page(self, html: str) -> None:
        data = html.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_a):
        pass


@pytest.fixture
def redirecting_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    _Site.port, _Site.seen = server.server_address[1], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{_Site.port}"
    server.shutdown()
    server.server_close()


@pytest.mark.integration
def test_redirects_and_links_to_private_addresses_and_other_schemes_are_refused_in_a_real_crawl(
        redirecting_site, settings):
    ns = f"{settings.namespace}-{uuid.uuid4().hex[:6]}"
    s = settings.model_copy(update={"namespace": ns, "crawl_allow_private_networks": False, "crawl_delay": 0.0,
                                    "crawl_retries": 0})
    SourceRegistry(s).add(parse_source({
        "id": "local-intranet", "name": "内网新闻", "outlet": "内网", "region": "铁岭市", "type": "listing",
        "start_urls": [f"{redirecting_site}/news/"], "allow_private_network": True,
        # the redirect targets are inside the allowed domains, so the offsite filter lets them through
        # and the guard alone must stop them
        "allowed_domains": ["127.0.0.1", "localhost", "169.254.169.254"],
        "link_rules": {"articles": {"allow": [r"/a/"]}}}))
    try:
        proc = subprocess.run([sys.executable, "-m", "newsmon", "crawl", "--source", "local-intranet", "--json"],
                              env=settings_env(s), capture_output=True, text=True, timeout=300)
        summary = json.loads(proc.stdout.splitlines()[-1])["sources"]["local-intranet"]
        samples = " | ".join(summary["error_samples"])
        assert summary["published"] == 1, (summary, proc.stderr[-2000:])
        published = [json.loads(r.value) for r in read_topic(s, "newsmon.raw-pages")]
        assert [p["url"] for p in published] == [f"{redirecting_site}/a/4.html"]
        assert f"localhost:{_Site.port}/a/secret.html: localhost resolves to non-public address" in samples
        assert "169.254.169.254 resolves to non-public address" in samples
        # the site itself was reached by its own name only; nothing was fetched through a redirect
        assert {host for host, _ in _Site.seen} == {f"127.0.0.1:{_Site.port}"}
        assert not [p for _, p in _Site.seen if "secret" in p or p.startswith(("/a/x", "/a/y", "/a/z", "/a/5"))]
    finally:
        admin = make_admin(s)
        mine = [t for t in admin.list_topics() if t.startswith(ns + ".")]
        if mine:
            admin.delete_topics(mine)
        admin.close()
