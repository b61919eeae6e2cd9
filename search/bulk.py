"""A bulk-indexing sink: buffers documents, sends them in `_bulk` requests bounded by count and
bytes, retries what Elasticsearch could not take right now, and reports what it refused for good.

Outcome of every item of a bulk, by its status:
- 2xx: written.
- 429 (queue full, circuit breaker), 5xx (shard unavailable, node restarting) and 404 (the
  alias is missing: with `require_alias` a write never auto-creates an index under it):
  retried with exponential backoff, only those items.
- any other 4xx: rejected for good — 400 is a mapping or parsing error (a strict mapping refusing
  a field, a malformed date or coordinate) — and returned to the caller, who dead-letters it.
Connection errors and 429/5xx answers to the whole request are retried the same way. When the
retries are used up, `BulkUnavailable` is raised and the caller must not commit its input: items
written so far are harmless to write again (document ids are stable).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

log = logging.getLogger(__name__)

_RETRY_ITEM_STATUS = {404, 429}


class BulkUnavailable(Exception):
    """Elasticsearch did not take the bulk within the retry budget: retry the input later."""


@dataclass(slots=True)
class Rejected:
    ref: Any                 # what the caller attached to the document (its Kafka message)
    doc_id: str
    status: int
    error_type: str
    reason: str

    @property
    def dead_letter_reason(self) -> str:
        return "mapping_error" if self.status == 400 else "rejected"


@dataclass(slots=True)
class _Pending:
    doc_id: str
    lines: bytes             # action line + source line, newline-terminated
    ref: Any


@dataclass
class FlushResult:
    indexed: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    requests: int = 0
    retries: int = 0

    def merge(self, other: FlushResult) -> None:
        self.indexed += other.indexed
        self.rejected += other.rejected
        self.requests += other.requests
        self.retries += other.retries


def _retryable_status(status: int) -> bool:
    return status in _RETRY_ITEM_STATUS or status >= 500


class BulkSink:
    def __init__(self, es: Elasticsearch, index: str, *, max_actions: int = 500, max_bytes: int = 5 * 1024 * 1024,
                 max_retries: int = 5, initial_backoff: float = 0.5, max_backoff: float = 10.0,
                 require_alias: bool = True, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        if max_actions < 1 or max_bytes < 1:
            raise ValueError("max_actions and max_bytes must be positive")
        self.es = es
        self.index = index
        self.max_actions = max_actions
        self.max_bytes = max_bytes
        self.max_retries = max_retries
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.require_alias = require_alias
        self._sleep = sleep
        self._clock = clock
        self._buffer: list[_Pending] = []
        self._bytes = 0
        self._oldest: float | None = None

    # ------------------------------------------------------------------ buffer
    @property
    def pending(self) -> int:
        return len(self._buffer)

    @property
    def pending_bytes(self) -> int:
        return self._bytes

    @property
    def full(self) -> bool:
        return len(self._buffer) >= self.max_actions or self._bytes >= self.max_bytes

    def age(self) -> float:
        """Seconds since the oldest buffered document was added (0 when empty)."""
        return 0.0 if self._oldest is None else self._clock() - self._oldest

    def add(self, doc_id: str, document: dict[str, Any], ref: Any = None) -> FlushResult:
        """Buffer one document (index operation, id = doc_id). Sends the buffer first when this
        document would push it over the byte bound, and after adding when it is full; returns
        what those sends did (empty when nothing was sent)."""
        lines = (json.dumps({"index": {"_id": doc_id}}, ensure_ascii=False) + "\n"
                 + json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        result = FlushResult()
        if self._buffer and self._bytes + len(lines) > self.max_bytes:
            result.merge(self.flush())
        self._buffer.append(_Pending(doc_id, lines, ref))
        self._bytes += len(lines)
        if self._oldest is None:
            self._oldest = self._clock()
        if self.full:
            result.merge(self.flush())
        return result

    # ------------------------------------------------------------------ sending
    def flush(self) -> FlushResult:
        """Send everything buffered; raise BulkUnavailable when retries run out (the buffer is
        then dropped: the caller re-reads its input)."""
        todo, self._buffer, self._bytes, self._oldest = self._buffer, [], 0, None
        result = FlushResult()
        attempt = 0
        while todo:
            try:
                items = self._send(todo)
                result.requests += 1
            except _RetryRequest as exc:
                attempt = self._backoff(attempt, str(exc), result)
                continue
            retry: list[_Pending] = []
            retry_example: dict[str, Any] = {}
            for pending, item in zip(todo, items, strict=True):
                outcome = next(iter(item.values()))
                status = int(outcome.get("status", 500))
                if 200 <= status < 300:
                    result.indexed += 1
                elif _retryable_status(status):
                    retry.append(pending)
                    retry_example = retry_example or outcome
                else:
                    error = outcome.get("error") or {}
                    result.rejected.append(Rejected(
                        pending.ref, pending.doc_id, status, str(error.get("type", "unknown")),
                        _reason(error)))
            todo = retry
            if todo:
                why = (f"{len(todo)} items not taken (status {retry_example.get('status')}: "
                       f"{_reason(retry_example.get('error') or {})})")
                attempt = self._backoff(attempt, why, result)
        return result

    def _send(self, todo: list[_Pending]) -> list[dict[str, Any]]:
        try:
            resp = self.es.bulk(operations=[p.lines for p in todo], index=self.index,
                                require_alias=self.require_alias)
        except ApiError as exc:
            if exc.status_code == 429 or exc.status_code >= 500:
                raise _RetryRequest(f"bulk request answered {exc.status_code}: {exc.message}") from exc
            if exc.status_code == 413 and len(todo) > 1:
                # too large for http.max_content_length: send the halves separately
                half = len(todo) // 2
                return self._send(todo[:half]) + self._send(todo[half:])
            if exc.status_code == 413:
                return [{"index": {"status": 413, "error": {"type": "request_too_large",
                                                            "reason": "document exceeds http.max_content_length"}}}]
            raise _RetryRequest(f"bulk request refused ({exc.status_code}): {exc.message}") from exc
        except TransportError as exc:  # connection refused/reset, timeout
            raise _RetryRequest(f"Elasticsearch unreachable: {exc}") from exc
        items = resp["items"]
        if len(items) != len(todo):
            raise _RetryRequest(f"bulk answered {len(items)} items for {len(todo)} operations")
        return items

    def _backoff(self, attempt: int, why: str, result: FlushResult) -> int:
        attempt += 1
        if attempt > self.max_retries:
            raise BulkUnavailable(f"{why}; gave up after {self.max_retries} retries")
        delay = min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1))
        log.warning("bulk to %s: %s; retry %d/%d in %.1fs", self.index, why, attempt, self.max_retries, delay)
        result.retries += 1
        self._sleep(delay)
        return attempt


class _RetryRequest(Exception):
    pass


def _reason(error: dict[str, Any]) -> str:
    reason = str(error.get("reason", "")) or str(error.get("type", "unknown error"))
    cause = error.get("caused_by") or {}
    if cause.get("reason"):
        reason += f" (caused by {cause.get('type')}: {cause['reason']})"
    return reason
