"""Serve the fixture news site (tests/fixtures/site) on 127.0.0.1, for tests and the demo.

    with FixtureSite() as site:          # a free port, in a background thread
        site.base_url                    # http://127.0.0.1:PORT
        site.requests                    # every request the site saw (path, host, status)

Static files come from the site's www/ directory; the routes the manifest marks as special
behave like real servers do: a 500 (and a 429 with Retry-After) that recover on retry, a slow
page, a 301 from an old URL, a redirect off the site and a 404. Absolute URLs in feeds,
sitemaps and robots.txt are rewritten from the demo base to the real port.
"""

from __future__ import annotations

import json
import mimetypes
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SITE_DIR = REPO_ROOT / "tests" / "fixtures" / "site"
DEMO_BASE = "http://127.0.0.1:8765"
_TYPES = {".html": "text/html", ".xml": "application/xml", ".txt": "text/plain", ".css": "text/css"}
_FEED_TYPES = {"/rss/local.xml": "application/rss+xml", "/atom/news.xml": "application/atom+xml"}


@dataclass(frozen=True, slots=True)
class SeenRequest:
    method: str
    path: str
    host: str
    status: int
    user_agent: str
    at: float


class FixtureSite:
    def __init__(self, site_dir: Path | str = DEFAULT_SITE_DIR, *, host: str = "127.0.0.1", port: int = 0,
                 slow_seconds: float = 1.5):
        self.site_dir = Path(site_dir)
        self.www = self.site_dir / "www"
        if not (self.www / "index.html").is_file():
            raise FileNotFoundError(f"no fixture site in {self.site_dir} (expected www/index.html)")
        self.manifest = json.loads((self.site_dir / "manifest.json").read_text(encoding="utf-8"))
        self.slow_seconds = slow_seconds
        self.requests: list[SeenRequest] = []
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._special = {a["path"]: a["special"] for a in self.manifest["articles"] if a.get("special")}
        self._encodings = {a["path"]: a["encoding"] for a in self.manifest["articles"]}
        self._redirects = {a["linked_as"]: a["path"] for a in self.manifest["articles"] if a["linked_as"] != a["path"]}
        self._offsite = set(self.manifest["offsite_redirect"])
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FixtureSite:
        self._thread = threading.Thread(target=self.server.serve_forever, name="fixture-site", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FixtureSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def serve_forever(self) -> None:
        self.server.serve_forever()

    # --- what tests ask --------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base_url + path

    def fetched(self, path: str, status: int | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path == path and (status is None or r.status == status))

    def reset(self) -> None:
        """Forget the request log and re-arm the fail-once routes."""
        with self._lock:
            self.requests.clear()
            self.hits.clear()

    # --- serving ---------------------------------------------------------------------------------
    def _record(self, handler: BaseHTTPRequestHandler, path: str, status: int) -> None:
        with self._lock:
            self.requests.append(SeenRequest(handler.command, path, handler.headers.get("Host", ""), status,
                                             handler.headers.get("User-Agent", ""), time.time()))

    def _respond(self, h: BaseHTTPRequestHandler, path: str) -> None:
        with self._lock:
            self.hits[path] += 1
            hit = self.hits[path]
        special = self._special.get(path)
        if special == "flaky-500" and hit == 1:
            return self._send(h, path, 500, b"<h1>500 Internal Server Error</h1>", "text/html")
        if special == "retry-after-429" and hit == 1:
            return self._send(h, path, 429, b"<h1>429 Too Many Requests</h1>", "text/html", {"Retry-After": "1"})
        if special == "slow":
            time.sleep(self.slow_seconds)
        if path in self._redirects:
            return self._send(h, path, 301, b"", "text/html", {"Location": self._redirects[path]})
        if path in self._offsite:
            target = f"http://localhost:{self.port}/content/2025-03/12/content_2001.html"
            return self._send(h, path, 302, b"", "text/html", {"Location": target})
        file = (self.www / path.lstrip("/")).resolve()
        if path.endswith("/"):
            file = file / "index.html"
        if not file.is_file() or self.www.resolve() not in file.parents:
            return self._send(h, path, 404, "<h1>404 页面不存在</h1>".encode(), "text/html; charset=utf-8")
        data = file.read_bytes()
        suffix = file.suffix
        ctype = _FEED_TYPES.get(path) or _TYPES.get(suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        encoding = self._encodings.get(path, "utf-8")
        if suffix in (".xml", ".txt"):
            data = data.replace(DEMO_BASE.encode(), self.base_url.encode())
        if encoding == "utf-8" and ctype.startswith(("text/", "application/")):
            ctype += "; charset=utf-8"
        # gbk and big5 pages: no charset in the header (the page's own <meta> is missing or wrong)
        self._send(h, path, 200, data, ctype)

    def _send(self, h: BaseHTTPRequestHandler, path: str, status: int, body: bytes, ctype: str,
              headers: dict[str, str] | None = None) -> None:
        self._record(h, path, status)
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "FixtureSite/1.0"
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                site._respond(self, urlsplit(self.path).path or "/")

            do_HEAD = do_GET  # noqa: N815

            def log_message(self, format, *args):  # quiet: the request log is site.requests
                pass

        return Handler


def fixture_sources_yaml(base_url: str = DEMO_BASE, site_dir: Path | str = DEFAULT_SITE_DIR) -> str:
    """The fixture site's sources (sources.yaml) pointed at a server on another port."""
    text = (Path(site_dir) / "sources.yaml").read_text(encoding="utf-8")
    return text.replace(DEMO_BASE, base_url.rstrip("/"))


def fixture_sources(base_url: str = DEMO_BASE, site_dir: Path | str = DEFAULT_SITE_DIR):
    from crawler.source import load_sources_yaml

    return load_sources_yaml(fixture_sources_yaml(base_url, site_dir))
