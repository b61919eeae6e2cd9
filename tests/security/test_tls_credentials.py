"""TLS and credentials for Kafka and Elasticsearch, through newsmon's own client factories.

Kafka: a second, real broker (Kafka 3.9.1 from the cached distribution, tests/security/secure_kafka.py)
with a SASL_SSL listener, a certificate from a throw-away CA, PLAIN and SCRAM-SHA-256 users. It is
started once for this module on free ports and stopped at its end; the local stack is not touched.

Elasticsearch: the local node is Elastic's integ-test-zip, which has no security module, so it can
neither serve TLS nor check credentials. A small HTTPS server on 127.0.0.1 stands in for it: it
serves the same certificate, checks the Authorization header (basic auth or API key) and answers
`GET /_cluster/health` as Elasticsearch does (with the product header the client insists on). What
is proven is the client side: make_es sends the right credentials over verified TLS and fails
cleanly otherwise.
"""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from elasticsearch import AuthenticationException
from elasticsearch import ConnectionError as EsConnectionError

from crawler.runner import settings_env
from newsmon.es import make_es
from newsmon.kafka import KafkaConnectError, client_config, ensure_topics, make_consumer, make_producer
from newsmon.settings import load_settings
from tests.security.secure_kafka import (
    PLAIN_PASSWORD,
    PLAIN_USER,
    SCRAM_PASSWORD,
    SCRAM_USER,
    SecureKafka,
    make_certificates,
)

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory):
    broker = SecureKafka(tmp_path_factory.mktemp("secure-kafka")).start()
    yield broker
    broker.stop()


def kafka_settings(broker, mechanism="PLAIN", user=PLAIN_USER, password=PLAIN_PASSWORD, ca=True):
    return load_settings(namespace=f"sec-{uuid.uuid4().hex[:6]}", kafka_bootstrap=broker.bootstrap,
                         kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism=mechanism,
                         kafka_sasl_username=user, kafka_sasl_password=password,
                         **({"kafka_ssl_cafile": str(broker.ca)} if ca else {}))


@pytest.mark.parametrize("mechanism, user, password", [("PLAIN", PLAIN_USER, PLAIN_PASSWORD),
                                                       ("SCRAM-SHA-256", SCRAM_USER, SCRAM_PASSWORD)])
def test_producer_and_consumer_connect_over_sasl_ssl(secure_kafka, mechanism, user, password):
    s = kafka_settings(secure_kafka, mechanism, user, password)
    [topic] = ensure_topics(s, ["newsmon.raw-pages"], partitions=1)
    producer = make_producer(s)
    producer.send(topic, key=b"k", value="为基层减负".encode()).get(timeout=30)
    producer.close()
    consumer = make_consumer(s, f"{s.namespace}-reader", [topic], consumer_timeout_ms=15_000)
    try:
        assert [m.value.decode() for m in consumer] == ["为基层减负"]
    finally:
        consumer.close()


def test_a_wrong_password_is_one_clear_error_line_without_the_password(secure_kafka):
    s = kafka_settings(secure_kafka, password="wrong-pw-MARKER-0d4e")
    proc = subprocess.run([sys.executable, "-m", "newsmon", "dead-letter", "list"], env=settings_env(s),
                          capture_output=True, text=True, timeout=180)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: KafkaConnectError: cannot connect to Kafka at {secure_kafka.bootstrap} (SASL_SSL)")
    # the broker's answer when the client reads it, else a hint (it may hang up first)
    assert ("Invalid username or password" in lines[0]
            or f"NEWSMON_KAFKA_SASL_USERNAME='{PLAIN_USER}' and its password" in lines[0]), lines[0]
    assert "MARKER" not in proc.stdout + proc.stderr


def test_an_untrusted_certificate_is_refused(secure_kafka):
    with pytest.raises(KafkaConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        make_producer(kafka_settings(secure_kafka, ca=False))


def test_kafka_client_options_cover_tls_and_sasl(tmp_path):
    s = load_settings(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
                      kafka_sasl_username="u", kafka_sasl_password="p", kafka_ssl_cafile=str(tmp_path / "ca.pem"),
                      kafka_ssl_certfile=str(tmp_path / "c.pem"), kafka_ssl_keyfile=str(tmp_path / "k.pem"),
                      kafka_ssl_password="kp", kafka_ssl_check_hostname=False)
    cfg = client_config(s)
    assert cfg["security_protocol"] == "SASL_SSL" and cfg["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (cfg["sasl_plain_username"], cfg["sasl_plain_password"]) == ("u", "p")
    assert cfg["ssl_cafile"].endswith("ca.pem") and cfg["ssl_certfile"].endswith("c.pem")
    assert cfg["ssl_keyfile"].endswith("k.pem") and cfg["ssl_password"] == "kp" and cfg["ssl_check_hostname"] is False
    plain = client_config(load_settings())
    assert plain["security_protocol"] == "PLAINTEXT" and not any(k.startswith(("ssl_", "sasl_")) for k in plain)


# --------------------------------------------------------------------------------- Elasticsearch
API_KEY = "es-api-key-MARKER-77aa"
ES_USER, ES_PASSWORD = "newsmon", "es-pw-MARKER-31cd"


class _FakeEsHandler(BaseHTTPRequestHandler):
    """Stands in for a secured Elasticsearch node: 401 without the right credentials."""

    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's hook name
        auth = self.headers.get("Authorization", "")
        self.seen.append(auth.split(" ", 1)[0])
        basic = "Basic " + base64.b64encode(f"{ES_USER}:{ES_PASSWORD}".encode()).decode()
        ok = auth in (basic, f"ApiKey {API_KEY}")
        body = json.dumps({"cluster_name": "stand-in", "status": "green"} if ok else
                          {"error": {"type": "security_exception", "reason": "unable to authenticate"},
                           "status": 401}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_a):
        pass


@pytest.fixture(scope="module")
def tls_es(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls-es")
    ca, _keystore = make_certificates(d)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(d / "broker.pem", d / "broker.key")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeEsHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", ca
    server.shutdown()
    server.server_close()


def _health(**settings) -> str:
    es = make_es(load_settings(es_request_timeout=5, **settings), max_retries=0)
    try:
        return es.cluster.health()["status"]
    finally:
        es.close()


def test_elasticsearch_basic_auth_and_api_key_over_verified_tls(tls_es):
    url, ca = tls_es
    assert _health(es_url=url, es_ca_certs=str(ca), es_username=ES_USER, es_password=ES_PASSWORD) == "green"
    assert _health(es_url=url, es_ca_certs=str(ca), es_api_key=API_KEY) == "green"
    host = url.removeprefix("https://")
    assert _health(es_url=f"https://{ES_USER}:{ES_PASSWORD}@{host}", es_ca_certs=str(ca)) == "green"
    assert {"Basic", "ApiKey"} <= set(_FakeEsHandler.seen)


def test_elasticsearch_wrong_credentials_and_untrusted_certificates_fail(tls_es):
    url, ca = tls_es
    with pytest.raises(AuthenticationException) as denied:
        _health(es_url=url, es_ca_certs=str(ca), es_username=ES_USER, es_password="wrong-MARKER")
    assert "MARKER" not in str(denied.value)
    with pytest.raises(EsConnectionError, match="TLS error"):
        _health(es_url=url, es_api_key=API_KEY)                             # the system CAs do not know ours
    assert _health(es_url=url, es_api_key=API_KEY, es_verify_certs=False) == "green"   # explicit opt-out only


def test_make_es_builds_the_client_options(tmp_path):
    es = make_es(load_settings(es_url="https://es.example.org:9243", es_api_key="k", es_ca_certs=str(tmp_path / "ca"),
                               es_client_cert=str(tmp_path / "c"), es_client_key=str(tmp_path / "k"),
                               es_verify_certs=False))
    [node] = es.transport.node_pool.all()
    assert es._headers["authorization"] == "ApiKey k"   # the client's default headers, on every request
    assert node.config.verify_certs is False and node.config.client_cert.endswith("/c")
    assert node.config.client_key.endswith("/k") and node.config.ca_certs.endswith("/ca")
    es.close()
    es = make_es(load_settings(es_url="http://127.0.0.1:9200", es_username="u", es_password="p"))
    assert es._headers["authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    es.close()
