"""A small client for the two Kibana APIs newsmon uses: saved-objects import and advanced settings.

Why a client of our own: the Elasticsearch client does not talk to Kibana, and the import API
wants multipart/form-data plus the `kbn-xsrf` header — urllib3 (already installed with the
Elasticsearch client) does both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import urllib3

# Lucene-syntax queries in Kibana's search bar default to AND: an unquoted 微信工作群 then needs
# all of its bigrams (微信 信工 工作 作群) instead of any one of them (every story with 工作).
QUERY_STRING_OPTIONS = {"analyze_wildcard": True, "default_operator": "AND"}


class KibanaError(Exception):
    """Kibana unreachable or refusing; the message is one line."""


@dataclass
class ImportedObject:
    type: str
    id: str
    title: str
    overwritten: bool


@dataclass
class ImportReport:
    success: bool
    success_count: int
    imported: list[ImportedObject] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class KibanaClient:
    def __init__(self, url: str, *, username: str | None = None, password: str | None = None,
                 api_key: str | None = None, space: str | None = None, ca_certs: str | None = None,
                 timeout: float = 30.0):
        self.base = url.rstrip("/") + (f"/s/{space}" if space else "")
        self.url = url.rstrip("/")
        headers = {"kbn-xsrf": "newsmon", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"ApiKey {api_key}"
        elif username:
            headers |= urllib3.make_headers(basic_auth=f"{username}:{password or ''}")
        self.headers = headers
        self.http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(timeout, 10.0), read=timeout),
            retries=urllib3.Retry(total=2, connect=2, read=0, status=0, backoff_factor=0.5),
            ca_certs=ca_certs)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = self.http.request(method, self.base + path, headers=self.headers | kwargs.pop("headers", {}),
                                     **kwargs)
        except urllib3.exceptions.HTTPError as exc:
            reason = getattr(exc, "reason", None) or exc
            raise KibanaError(f"Kibana at {self.url} is unreachable: {type(reason).__name__}"
                              f"{': ' + str(reason).split(': ')[-1] if str(reason) else ''}") from None
        body: Any
        try:
            body = json.loads(resp.data or b"null")
        except json.JSONDecodeError:
            body = None
        if resp.status in (401, 403):
            raise KibanaError(f"Kibana at {self.url} refused the request ({resp.status}): check --user/--password "
                              "or --api-key")
        if resp.status == 404 and body is None:
            raise KibanaError(f"{self.url} does not look like Kibana (404 for {path})")
        if resp.status >= 400:
            message = body.get("message") if isinstance(body, dict) else resp.data[:200].decode("utf-8", "replace")
            raise KibanaError(f"Kibana answered {resp.status} for {path}: {' '.join(str(message).split())}")
        if body is None:
            raise KibanaError(f"Kibana answered {path} with something that is not JSON")
        return body

    def import_objects(self, ndjson: str, *, overwrite: bool = True) -> ImportReport:
        body = self._request("POST", f"/api/saved_objects/_import?overwrite={'true' if overwrite else 'false'}",
                             fields={"file": ("newsmon.ndjson", ndjson.encode("utf-8"), "application/ndjson")})
        report = ImportReport(success=bool(body.get("success")), success_count=int(body.get("successCount", 0)))
        for r in body.get("successResults", []):
            report.imported.append(ImportedObject(r.get("type", "?"), r.get("destinationId") or r.get("id", "?"),
                                                  r.get("meta", {}).get("title", ""), bool(r.get("overwrite"))))
        for e in body.get("errors", []):
            err = e.get("error", {})
            detail = err.get("type", "error")
            if err.get("references"):
                detail += " " + ", ".join(f"{r.get('type')}/{r.get('id')}" for r in err["references"])
            report.errors.append(f"{e.get('type')}/{e.get('id')} ({e.get('meta', {}).get('title', '')}): {detail}")
        return report

    def set_query_string_defaults(self) -> None:
        self._request("POST", "/api/kibana/settings",
                      body=json.dumps({"changes": {"query:queryString:options": json.dumps(QUERY_STRING_OPTIONS)}}),
                      headers={"Content-Type": "application/json"})
