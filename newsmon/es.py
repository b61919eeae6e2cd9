"""Elasticsearch client from settings (URL, basic auth or API key, CA certs)."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from newsmon.settings import Settings


def make_es(settings: Settings, **overrides: Any) -> Elasticsearch:
    kwargs: dict[str, Any] = {"request_timeout": settings.es_request_timeout}
    if settings.es_api_key is not None:
        kwargs["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username:
        password = settings.es_password.get_secret_value() if settings.es_password else ""
        kwargs["basic_auth"] = (settings.es_username, password)
    if settings.es_ca_certs:
        kwargs["ca_certs"] = str(settings.es_ca_certs)
    kwargs.update(overrides)
    return Elasticsearch(settings.es_url, **kwargs)
