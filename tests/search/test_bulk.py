"""The bulk sink's bounds, retries and verdicts, against a scripted stand-in for the `_bulk` API
(pure unit tests; the integration tests use the real node)."""

from __future__ import annotations

import json

import pytest
from elastic_transport import ApiResponseMeta, ConnectionError, HttpHeaders, NodeConfig
from elasticsearch import ApiError

from search.bulk import BulkSink, BulkUnavailable


class ScriptedBulk:
    """Answers `_bulk` requests: `script` is a list of per-request behaviours, each either an
    exception to raise or a function doc_id -> (status, error type) for the items."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests: list[list[str]] = []
        self.sizes: list[int] = []

    def bulk(self, *, operations, index, require_alias):
        assert require_alias is True and index == "articles"
        lines = b"".join(operations).decode("utf-8").splitlines()
        ids = [json.loads(a)["index"]["_id"] for a in lines[0::2]]
        self.requests.append(ids)
        self.sizes.append(sum(len(op) for op in operations))
        behaviour = self.script.pop(0) if self.script else (lambda _id: (201, None))
        if isinstance(behaviour, Exception):
            raise behaviour
        items = []
        for doc_id in ids:
            status, error = behaviour(doc_id)
            item = {"_id": doc_id, "status": status}
            if error:
                item["error"] = {"type": error, "reason": f"{error} for {doc_id}"}
            items.append({"index": item})
        return {"errors": any(i["index"]["status"] >= 300 for i in items), "items": items}


def _sink(es, **kw) -> tuple[BulkSink, list[float]]:
    sleeps: list[float] = []
    return BulkSink(es, "articles", sleep=sleeps.append, **kw), sleeps


def _api_error(status: int) -> ApiError:
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                           node=NodeConfig("http", "127.0.0.1", 9200))
    return ApiError(f"status {status}", meta=meta, body={"error": {"type": "x", "reason": "y"}})


def test_bulks_are_bounded_by_count_and_by_bytes():
    es = ScriptedBulk()
    sink, _ = _sink(es, max_actions=3, max_bytes=10_000)
    for n in range(7):
        sink.add(f"d{n}", {"text": "减负"}, ref=n)
    assert es.requests == [["d0", "d1", "d2"], ["d3", "d4", "d5"]] and sink.pending == 1
    assert sink.flush().indexed == 1

    es = ScriptedBulk()
    sink, _ = _sink(es, max_actions=100, max_bytes=600)
    for n in range(6):
        sink.add(f"d{n}", {"text": "微信工作群" * 10}, ref=n)   # ~180 bytes each
    sink.flush()
    assert all(size <= 600 for size in es.sizes) and len(es.requests) >= 2
    assert [i for r in es.requests for i in r] == [f"d{n}" for n in range(6)]


def test_mapping_errors_are_rejected_and_the_rest_is_written():
    es = ScriptedBulk(lambda i: (400, "document_parsing_exception") if i == "bad" else (201, None))
    sink, _ = _sink(es)
    for doc_id in ("a", "bad", "c"):
        sink.add(doc_id, {"x": 1}, ref=f"msg-{doc_id}")
    result = sink.flush()
    assert result.indexed == 2
    [rejected] = result.rejected
    assert (rejected.ref, rejected.status, rejected.error_type, rejected.dead_letter_reason) == \
           ("msg-bad", 400, "document_parsing_exception", "mapping_error")
    assert "document_parsing_exception for bad" in rejected.reason


def test_items_refused_for_now_are_retried_alone_with_backoff():
    es = ScriptedBulk(lambda i: (429, "es_rejected_execution_exception") if i == "b" else (201, None),
                      lambda i: (503, "unavailable_shards_exception"),
                      lambda i: (201, None))
    sink, sleeps = _sink(es, initial_backoff=0.5)
    for doc_id in ("a", "b", "c"):
        sink.add(doc_id, {"x": 1})
    result = sink.flush()
    assert es.requests == [["a", "b", "c"], ["b"], ["b"]]
    assert result.indexed == 3 and result.rejected == [] and result.retries == 2
    assert sleeps == [0.5, 1.0]


def test_connection_errors_and_5xx_answers_are_retried_then_give_up():
    es = ScriptedBulk(ConnectionError("refused"), _api_error(503), lambda i: (201, None))
    sink, sleeps = _sink(es)
    sink.add("a", {"x": 1})
    assert sink.flush().indexed == 1 and len(sleeps) == 2

    es = ScriptedBulk(*[ConnectionError("refused")] * 10)
    sink, sleeps = _sink(es, max_retries=3, initial_backoff=1, max_backoff=3)
    sink.add("a", {"x": 1})
    with pytest.raises(BulkUnavailable, match="gave up after 3 retries"):
        sink.flush()
    assert sleeps == [1, 2, 3] and sink.pending == 0


def test_a_missing_alias_is_waited_for_not_rejected():
    es = ScriptedBulk(lambda i: (404, "index_not_found_exception"), lambda i: (201, None))
    sink, _ = _sink(es)
    sink.add("a", {"x": 1})
    result = sink.flush()
    assert result.indexed == 1 and not result.rejected


def test_a_request_too_large_is_split_and_a_single_oversized_document_rejected():
    es = ScriptedBulk(_api_error(413), lambda i: (201, None), _api_error(413))
    sink, _ = _sink(es)
    sink.add("a", {"x": 1})
    sink.add("b", {"x": 2})
    result = sink.flush()
    assert es.requests == [["a", "b"], ["a"], ["b"]]
    assert result.indexed == 1 and result.rejected[0].doc_id == "b" and result.rejected[0].status == 413
    assert result.rejected[0].dead_letter_reason == "rejected"
