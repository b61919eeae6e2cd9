"""One-line explanations of Elasticsearch failures, for commands that talk to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    NotFoundError,
    TransportError,
)

from newsmon.settings import Settings


def describe(exc: Exception, settings: Settings) -> str:
    if isinstance(exc, AuthenticationException):
        return f"Elasticsearch at {settings.es_url_shown} refused the credentials (NEWSMON_ES_USERNAME/PASSWORD/API_KEY)"
    if isinstance(exc, AuthorizationException):
        return f"Elasticsearch at {settings.es_url_shown} does not allow this: {exc.message}"
    if isinstance(exc, NotFoundError) and exc.error == "index_not_found_exception":
        missing = (exc.info or {}).get("error", {}).get("index", "") if isinstance(exc.info, dict) else ""
        return f"index {missing or '?'} does not exist: run `newsmon index init`"
    if isinstance(exc, ApiError):
        info = exc.info if isinstance(exc.info, dict) else {}
        reason = info.get("error", {}).get("root_cause", [{}])[0].get("reason") if isinstance(info.get("error"), dict) else None
        return f"Elasticsearch answered {exc.status_code} {exc.error}: {reason or exc.message}"
    if isinstance(exc, TransportError):
        return f"Elasticsearch at {settings.es_url_shown} is unreachable ({type(exc).__name__}); is it running? " \
               "(`newsmon stack status`)"
    return str(exc)


@contextmanager
def elasticsearch_errors(settings: Settings, error_class: type[Exception]) -> Iterator[None]:
    """Turn Elasticsearch client exceptions into `error_class` with a one-line message."""
    try:
        yield
    except (ApiError, TransportError) as exc:
        raise error_class(describe(exc, settings)) from None
