"""Elasticsearch client from settings (URL, basic auth or API key, TLS: CA bundle, verification,
client certificate). Credentials in the URL (https://user:pass@host) are passed on by the client."""

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
    if settings.es_url.startswith("https://"):
        kwargs["verify_certs"] = settings.es_verify_certs
        if not settings.es_verify_certs:
            kwargs["ssl_show_warn"] = False   # said once in the settings, not on every request
    if settings.es_client_cert:
        kwargs["client_cert"] = str(settings.es_client_cert)
    if settings.es_client_key:
        kwargs["client_key"] = str(settings.es_client_key)
    kwargs.update(overrides)
    return Elasticsearch(settings.es_url, **kwargs)
