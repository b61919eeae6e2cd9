"""A second, separate Kafka broker with TLS and SASL, for the credential tests.

It runs the same cached Kafka distribution as the local stack (`newsmon stack up` fetched it into
NEWSMON_CACHE_DIR) on free ports of 127.0.0.1, in a temporary directory:

- listener SASL_SSL (clients): a certificate for localhost/127.0.0.1 signed by a throw-away CA
  made with openssl, SASL PLAIN and SCRAM-SHA-256 users;
- listener INTERNAL (PLAINTEXT) for the broker talking to itself, CONTROLLER for KRaft; neither is
  advertised to clients.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from deploy.local.stack import LocalStack, format_kafka_storage, new_kafka_cluster_id
from newsmon.mailcatcher import free_port
from newsmon.settings import load_settings

ADMIN_PASSWORD = "admin-pw-7c1e"
PLAIN_USER, PLAIN_PASSWORD = "newsmon", "plain-pw-MARKER-51f3"
SCRAM_USER, SCRAM_PASSWORD = "newsmon-scram", "scram-pw-MARKER-9a2d"
KEYSTORE_PASSWORD = "keystore-pw-3b7"


def _run(*args: str, cwd: Path | None = None) -> None:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:   # say what failed: a bare CalledProcessError hides the tool's stderr
        raise RuntimeError(f"{args[0]} {' '.join(args[1:3])} … exited {proc.returncode}: "
                           f"{(proc.stderr or proc.stdout)[-2000:]}")


def make_certificates(d: Path) -> tuple[Path, Path]:
    """(CA certificate PEM, broker PKCS#12 keystore) for localhost and 127.0.0.1."""
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=newsmon test CA",
         "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "broker.key",
         "-out", "broker.csr", cwd=d)
    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _run("openssl", "x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", "2", "-extfile", "san.ext", "-out", "broker.pem", cwd=d)
    _run("openssl", "pkcs12", "-export", "-in", "broker.pem", "-inkey", "broker.key", "-name", "broker",
         "-out", "broker.p12", "-passout", f"pass:{KEYSTORE_PASSWORD}", cwd=d)
    return d / "ca.pem", d / "broker.p12"


class SecureKafka:
    def __init__(self, workdir: Path):
        self.dir = workdir
        self.port, self.internal_port, self.controller_port = free_port(), free_port(), free_port()
        self.kafka_home = LocalStack(load_settings()).kafka_home
        self.proc: subprocess.Popen | None = None
        self.ca: Path | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 150.0) -> SecureKafka:
        if not (self.kafka_home / "libs").is_dir():
            raise RuntimeError(f"no Kafka distribution in {self.kafka_home}: run `newsmon stack up` once")
        self.ca, keystore = make_certificates(self.dir)
        props = self.dir / "server.properties"
        props.write_text(self._properties(keystore))
        (self.dir / "log4j.properties").write_text(
            "log4j.rootLogger=INFO, file\nlog4j.appender.file=org.apache.log4j.FileAppender\n"
            f"log4j.appender.file.File={self.dir / 'server.log'}\n"
            "log4j.appender.file.layout=org.apache.log4j.PatternLayout\n"
            "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n\n")
        java = ["java", "-Xms256m", "-Xmx256m", f"-Dlog4j.configuration=file:{self.dir / 'log4j.properties'}",
                "-cp", f"{self.kafka_home / 'libs'}/*"]
        format_kafka_storage(java, props, new_kafka_cluster_id(),
                             "--add-scram", f"SCRAM-SHA-256=[name={SCRAM_USER},password={SCRAM_PASSWORD}]")
        with open(self.dir / "kafka.out", "ab") as out:
            self.proc = subprocess.Popen([*java, "kafka.Kafka", str(props)], stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"secure broker exited: {self.log_tail()}")
            if self._listening() and "Kafka Server started" in self.log_tail(200):
                return self
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"secure broker not up within {timeout:.0f}s: {self.log_tail()}")

    def _listening(self) -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def log_tail(self, lines: int = 30) -> str:
        text = ""
        for name in ("server.log", "kafka.out"):
            path = self.dir / name
            if path.exists():
                text += "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)   # its own session: the JVM and nothing else
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=10)
        self.proc = None

    def _properties(self, keystore: Path) -> str:
        plain = (f'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" '
                 f'password="{ADMIN_PASSWORD}" user_admin="{ADMIN_PASSWORD}" '
                 f'user_{PLAIN_USER}="{PLAIN_PASSWORD}";')
        return f"""process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{self.controller_port}
listeners=SASL_SSL://127.0.0.1:{self.port},INTERNAL://127.0.0.1:{self.internal_port},CONTROLLER://127.0.0.1:{self.controller_port}
advertised.listeners=SASL_SSL://127.0.0.1:{self.port},INTERNAL://127.0.0.1:{self.internal_port}
listener.security.protocol.map=SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256
listener.name.sasl_ssl.plain.sasl.jaas.config={plain}
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location={keystore}
ssl.keystore.password={KEYSTORE_PASSWORD}
ssl.key.password={KEYSTORE_PASSWORD}
ssl.client.auth=none
log.dirs={self.dir / 'data'}
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=1
num.io.threads=2
"""
