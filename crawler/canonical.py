"""Canonical URLs: one article, one key, however it was linked.

Listing pages, feeds and share buttons link the same article with tracking parameters, a
fragment, upper-case host names or an explicit default port. w3lib's canonicalize_url does the
hard part (percent-encoding, IDNA, sorted query); this module adds what it leaves: tracking
parameters, default ports and a trailing dot on the host.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

from newsmon.schemas import url_key

# Exact names of parameters that only say where a click came from (Chinese portals and the big
# share platforms); prefixes cover families such as utm_*.
TRACKING_PARAMS = frozenset({
    "spm", "from", "isappinstalled", "scene", "clicktime", "enterid", "wfr", "share_token",
    "sharer_shareid", "sharer_sharetime", "share_from", "shareid", "timestamp", "tt_from", "app",
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_hsenc", "_hsmi",
    "srcid", "source", "sourceid", "ref", "ref_src", "referer", "refer", "cmpid", "wt.mc_id", "bd_vid",
})
TRACKING_PREFIXES = ("utm_", "hmsr", "hmpl", "hmcu", "hmkw", "hmci", "pk_", "mtm_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """http://WWW.Paper.cn:80/a.html?utm_source=x&b=2#top -> http://www.paper.cn/a.html?b=2"""
    url = canonicalize_url(url.strip(), keep_fragments=False)
    parts = urlsplit(url)
    if parts.query:
        names = [p.split("=", 1)[0] for p in parts.query.split("&")]
        tracking = sorted({n for n in names if _is_tracking(n)})
        if tracking:
            parts = urlsplit(url_query_cleaner(url, tracking, remove=True, keep_fragments=False))
    # Rebuilt from the host name alone: credentials and default ports never identify an article.
    host = (parts.hostname or "").rstrip(".")
    netloc = host if ":" not in host else f"[{host}]"  # IPv6 literal
    if parts.port and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        netloc = f"{netloc}:{parts.port}"
    path = parts.path or "/"
    return urlunsplit((parts.scheme, netloc, path, parts.query, ""))


def canonical_key(url: str) -> str:
    """The raw-pages message key and crawl-state document id of a URL."""
    return url_key(canonical_url(url))
