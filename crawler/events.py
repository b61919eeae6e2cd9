"""Progress events from a crawl process to whoever started it, as JSON lines.

The crawl runs in its own process (see crawler.runner); its stdout carries only these events,
so the parent can render a live display, collect `source test` link reports and build the
summary without sharing memory with Twisted.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import IO, Any

_stream: IO[str] | None = None
_lock = threading.Lock()


def set_stream(stream: IO[str] | None) -> None:
    global _stream
    _stream = stream


def emit(event: str, **fields: Any) -> None:
    """Write one event line; a no-op when no stream is set (e.g. a spider run by scrapy itself)."""
    if _stream is None:
        return
    line = json.dumps({"event": event, **fields}, ensure_ascii=False, default=str)
    with _lock:
        try:
            _stream.write(line + "\n")
            _stream.flush()
        except (BrokenPipeError, ValueError):  # the parent went away: keep crawling, stop talking
            set_stream(None)


def parse(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) and "event" in value else None


def stdout_stream() -> IO[str]:
    return sys.stdout
