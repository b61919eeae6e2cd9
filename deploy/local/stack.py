"""The no-Docker local stack: a real Kafka broker (KRaft) and a real Elasticsearch 8 node on 127.0.0.1.

Both come from Maven Central (the only download site these machines reach) and are cached outside
the repository in `settings.cache_dir`; data, logs and PID files live in `settings.stack_dir`.

    fetch    mvn dependency:copy-dependencies (Kafka + logging jars), dependency:unpack (ES zip)
    plugin   mvn package of deploy/local/cjk-plugin against the exact ES version -> ES plugins/
    start    Kafka: StorageTool format + kafka.Kafka; ES: bin/elasticsearch -d (as a system user when root)
    wait     until healthy, or fail with the tail of the log
    stop     by PID (SIGTERM, then SIGKILL after a grace period)

A stack that already answers on the configured ports is reused, whoever started it.
"""

from __future__ import annotations

import base64
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import urllib3

from newsmon.settings import Settings

HERE = Path(__file__).parent
FETCH_POM = HERE / "pom.xml"
PLUGIN_SRC = HERE / "cjk-plugin"
PLUGIN_NAME = "newsmon-analysis-cjk"
ES_USER = "newsmon"          # Elasticsearch refuses to run as root
_DISPLAY = {"kafka": "Kafka", "elasticsearch": "Elasticsearch"}   # service name -> name in messages


class StackError(RuntimeError):
    """A one-line, user-facing failure of the local stack (the log tail is in .details)."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


@dataclass
class ServiceStatus:
    name: str
    healthy: bool
    version: str | None
    endpoint: str
    pid: int | None
    detail: str = ""
    managed: bool = False    # started by this stack (has our PID file)


def new_kafka_cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def format_kafka_storage(jvm: list[str], properties: Path, cluster_id: str, *extra: str) -> None:
    """KRaft storage format (kafka-storage.sh format) with the given JVM command line."""
    fmt = subprocess.run(
        [*jvm, "kafka.tools.StorageTool", "format",
         # "=" form: a base64 id may start with "-", which the option parser would take for a flag
         f"--cluster-id={cluster_id}", "-c", str(properties), *extra],
        capture_output=True, text=True, timeout=120)
    if fmt.returncode != 0:
        raise StackError("Kafka storage format failed", (fmt.stdout + fmt.stderr)[-3000:])


class LocalStack:
    def __init__(self, settings: Settings):
        self.s = settings
        self.cache = settings.cache_dir
        self.dir = settings.stack_dir
        self.kafka_home = self.cache / f"kafka-{settings.kafka_version}"
        self.es_home = self.cache / "es-dist" / f"elasticsearch-{settings.es_version}"
        self.kafka_dir = self.dir / "kafka"
        self.es_dir = self.dir / "elasticsearch"
        self._http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2, read=10))

    # ------------------------------------------------------------------ public API
    def up(self, progress=print) -> tuple[list[ServiceStatus], float]:
        t0 = time.monotonic()
        kafka_up = self._port_open(self.s.kafka_port)
        es_up = self._es_health() is not None
        if not (kafka_up and es_up):
            self.fetch(progress)
        if kafka_up:
            progress(f"Kafka already running on 127.0.0.1:{self.s.kafka_port}: reusing it")
        else:
            self._start_kafka(progress)
        if es_up:
            progress(f"Elasticsearch already running on 127.0.0.1:{self.s.es_port}: reusing it")
        else:
            self.install_plugin(progress)
            self._start_es(progress)
        deadline = time.monotonic() + self.s.stack_start_timeout
        if not kafka_up:
            self._wait(lambda: self._kafka_ready(), deadline, "Kafka", self.kafka_dir / "server.log")
        if not es_up:
            self._wait(lambda: self._es_health() in ("green", "yellow"), deadline, "Elasticsearch",
                       self.es_dir / "logs" / "newsmon-local.log", self.es_dir / "es.out")
        self._ensure_standard_topics()  # idempotent; also repairs a reused broker that lacks them
        return self.status(), time.monotonic() - t0

    def down(self, progress=print) -> list[str]:
        return [_DISPLAY[s] for s in ("elasticsearch", "kafka") if self.stop_service(s, progress)]

    def status(self) -> list[ServiceStatus]:
        kpid = _read_pid(self.kafka_dir / "kafka.pid")
        kafka_ok = self._kafka_ready()
        kafka = ServiceStatus(
            name="kafka", healthy=kafka_ok, endpoint=f"127.0.0.1:{self.s.kafka_port}",
            version=self._kafka_version() if kafka_ok else None, pid=kpid if kpid and _alive(kpid) else None,
            detail="" if kafka_ok else "not reachable", managed=kpid is not None and _alive(kpid),
        )
        health = self._es_health()
        epid = _read_pid(self.es_dir / "es.pid")
        es = ServiceStatus(
            name="elasticsearch", healthy=health in ("green", "yellow"), endpoint=f"http://127.0.0.1:{self.s.es_port}",
            version=self._es_version() if health else None, pid=epid if epid and _alive(epid) else None,
            detail=f"cluster health {health}" if health else "not reachable",
            managed=epid is not None and _alive(epid),
        )
        if es.healthy:
            es.detail += f", cjk analyzer {'ok' if self._es_has_cjk() else 'MISSING'}"
        return [kafka, es]

    def logs(self, lines: int = 40) -> dict[str, str]:
        return {
            "kafka": _tail(self.kafka_dir / "server.log", lines) or _tail(self.kafka_dir / "kafka.out", lines),
            "elasticsearch": _tail(self.es_dir / "logs" / "newsmon-local.log", lines) or _tail(self.es_dir / "es.out", lines),
        }

    # ------------------------------------------------------------------ one service at a time (fault tests)
    def pid(self, service: str) -> int | None:
        """PID of `service` ("kafka" or "elasticsearch") if this stack started it and it is alive."""
        pid = _read_pid(self._pidfile(service))
        return pid if pid is not None and _alive(pid) else None

    def kill(self, service: str, sig: int = signal.SIGKILL, timeout: float = 30.0) -> int:
        """Send `sig` to a service this stack started, by its PID file; returns the PID. The default,
        SIGKILL, is a crash: no clean shutdown, the PID file stays, and this returns once the process
        is gone. Raises StackError when the service is not running under this stack."""
        pid = self.pid(service)
        if pid is None:
            raise StackError(f"{_DISPLAY[service]}: not running under this stack (no live PID in "
                             f"{self._pidfile(service)})")
        os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while sig == signal.SIGKILL and _alive(pid):
            if time.monotonic() > deadline:
                raise StackError(f"{_DISPLAY[service]} (pid {pid}) still alive {timeout:.0f}s after signal {sig}")
            time.sleep(0.1)
        return pid

    def stop_service(self, service: str, progress=print) -> bool:
        """Stop one service cleanly (SIGTERM, SIGKILL after a grace period) and forget its PID file;
        True when it was running. `down` is this for both services."""
        name, pidfile = _DISPLAY[service], self._pidfile(service)
        pid = _read_pid(pidfile)
        if pid is None:
            progress(f"{name}: not started by this stack (no PID file)")
            return False
        stopped = _stop_pid(pid)
        progress(f"{name}: stopped (pid {pid})" if stopped else f"{name}: was not running (stale pid {pid})")
        pidfile.unlink(missing_ok=True)
        return stopped

    def start_service(self, service: str, progress=print) -> ServiceStatus:
        """Start one service of this stack (again: after `stop_service` or `kill`, on the same data)
        and wait until it is healthy; returns its status. Raises StackError when it does not come up."""
        deadline = time.monotonic() + self.s.stack_start_timeout
        if service == "kafka":
            self._start_kafka(progress)
            self._wait(self._kafka_ready, deadline, "Kafka", self.kafka_dir / "server.log")
        else:
            self._pidfile(service).unlink(missing_ok=True)  # a crash leaves it behind
            self._start_es(progress)
            self._wait(lambda: self._es_health() in ("green", "yellow"), deadline, "Elasticsearch",
                       self.es_dir / "logs" / "newsmon-local.log", self.es_dir / "es.out")
        return next(s for s in self.status() if s.name == service)

    def _pidfile(self, service: str) -> Path:
        if service not in _DISPLAY:
            raise StackError(f"unknown service {service!r} (expected one of {', '.join(_DISPLAY)})")
        return self.kafka_dir / "kafka.pid" if service == "kafka" else self.es_dir / "es.pid"

    # ------------------------------------------------------------------ fetching and building
    def fetch(self, progress=print) -> bool:
        """Download Kafka and Elasticsearch into the cache unless already there. True if it downloaded."""
        marker = self.cache / f".fetched-kafka-{self.s.kafka_version}-es-{self.s.es_version}"
        if marker.exists() and (self.kafka_home / "libs").is_dir() and (self.es_home / "bin").is_dir():
            return False
        progress(f"Fetching Kafka {self.s.kafka_version} and Elasticsearch {self.s.es_version} with Maven into {self.cache} (once)")
        self.cache.mkdir(parents=True, exist_ok=True)
        self.cache.chmod(0o755)
        _run_mvn(["-f", str(FETCH_POM), f"-Dcache.dir={self.cache}", f"-Dkafka.version={self.s.kafka_version}",
                  f"-Des.version={self.s.es_version}", "dependency:copy-dependencies@kafka",
                  "dependency:unpack@elasticsearch"], "fetching the stack")
        marker.touch()
        return True

    def install_plugin(self, progress=print) -> None:
        """Build the CJK analyzer plugin against the exact ES version and drop it into ES's plugins/."""
        target = self.es_home / "plugins" / PLUGIN_NAME
        descriptor = target / "plugin-descriptor.properties"
        if descriptor.exists() and f"elasticsearch.version={self.s.es_version}" in descriptor.read_text():
            return
        progress(f"Building the `cjk` analyzer plugin for Elasticsearch {self.s.es_version}")
        build = self.cache / "build" / f"cjk-plugin-{self.s.es_version}"
        if build.exists():
            shutil.rmtree(build)
        shutil.copytree(PLUGIN_SRC, build, ignore=shutil.ignore_patterns("target"))
        _run_mvn(["-f", str(build / "pom.xml"), f"-Des.version={self.s.es_version}", "package"], "building the cjk plugin")
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(build / "target" / "plugin", target)
        for p in [target, *target.iterdir()]:
            p.chmod(0o755 if p.is_dir() else 0o644)

    # ------------------------------------------------------------------ Kafka
    def _start_kafka(self, progress) -> None:
        d = self.kafka_dir
        (d / "data").mkdir(parents=True, exist_ok=True)
        props = d / "server.properties"
        props.write_text(_kafka_properties(self.s, d / "data"))
        (d / "log4j.properties").write_text(_KAFKA_LOG4J.format(log=d / "server.log"))
        cluster_id_file = d / "cluster.id"
        if not cluster_id_file.exists():
            cluster_id_file.write_text(new_kafka_cluster_id())
        java = _java()
        cp = f"{self.kafka_home / 'libs'}/*"
        jvm = [java, f"-Xms{self.s.kafka_heap}", f"-Xmx{self.s.kafka_heap}", "-XX:+UseG1GC",
               f"-Dlog4j.configuration=file:{d / 'log4j.properties'}", "-cp", cp]
        format_kafka_storage(jvm, props, cluster_id_file.read_text().strip(), "--ignore-formatted")
        progress(f"Starting Kafka {self.s.kafka_version} (KRaft) on 127.0.0.1:{self.s.kafka_port}")
        with open(d / "kafka.out", "ab") as out:
            proc = subprocess.Popen([*jvm, "kafka.Kafka", str(props)], stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, cwd=d)
        (d / "kafka.pid").write_text(str(proc.pid))

    def _kafka_ready(self) -> bool:
        if not self._port_open(self.s.kafka_port):
            return False
        from kafka import KafkaAdminClient  # imported lazily: `stack status` stays quick when down

        try:
            admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{self.s.kafka_port}", request_timeout_ms=5000,
                                     client_id="newsmon-stack")
        except Exception:
            return False
        try:
            return bool(admin.describe_cluster().get("brokers"))
        except Exception:
            return False
        finally:
            admin.close()

    def _kafka_version(self) -> str | None:
        """The version of the broker jar on the running process's classpath (the broker's own word)."""
        pid = _read_pid(self.kafka_dir / "kafka.pid")
        if pid and _alive(pid):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                for part in cmd.split("\0"):
                    if "kafka-" in part and "/libs/" in part:
                        return part.split("kafka-", 1)[1].split("/", 1)[0]
            except OSError:
                pass
        return self.s.kafka_version + " (assumed: not started by this stack)"

    def _ensure_standard_topics(self) -> None:
        from newsmon.kafka import ensure_topics

        ensure_topics(self.s)

    # ------------------------------------------------------------------ Elasticsearch
    def _start_es(self, progress) -> None:
        d = self.es_dir
        conf = d / "config"
        for sub in ("data", "logs", "tmp", "config"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        for name in ("jvm.options", "log4j2.properties"):
            shutil.copy(self.es_home / "config" / name, conf / name)
        (conf / "jvm.options.d").mkdir(exist_ok=True)
        (conf / "jvm.options.d" / "heap.options").write_text(f"-Xms{self.s.es_heap}\n-Xmx{self.s.es_heap}\n")
        (conf / "elasticsearch.yml").write_text(_es_yaml(self.s, d))
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ES_JAVA_HOME": _java_home(),
            "ES_PATH_CONF": str(conf),
            "ES_TMPDIR": str(d / "tmp"),
            "HOME": str(d),
        }
        cmd = [str(self.es_home / "bin" / "elasticsearch"), "-d", "-p", str(d / "es.pid")]
        if os.geteuid() == 0:
            _ensure_system_user(ES_USER)
            _chown_tree(d, ES_USER)
            _make_traversable(self.es_home)
            cmd = ["runuser", "-u", ES_USER, "--", "env", *[f"{k}={v}" for k, v in env.items()], *cmd]
        progress(f"Starting Elasticsearch {self.s.es_version} on 127.0.0.1:{self.s.es_port} (heap {self.s.es_heap})")
        with open(d / "es.out", "ab") as out:
            res = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=env, cwd=d, timeout=self.s.stack_start_timeout, start_new_session=True)
        if res.returncode != 0:
            raise StackError(f"Elasticsearch failed to start (exit {res.returncode})",
                             _tail(d / "es.out", 30) + "\n" + _tail(d / "logs" / "newsmon-local.log", 30))

    def _es_get(self, path: str):
        try:
            r = self._http.request("GET", f"http://127.0.0.1:{self.s.es_port}{path}")
        except Exception:
            return None
        if r.status != 200:
            return None
        import json

        return json.loads(r.data)

    def _es_health(self) -> str | None:
        # The test distribution has no `GET /`: cluster health is the liveness probe.
        body = self._es_get("/_cluster/health")
        return body.get("status") if body else None

    def _es_version(self) -> str | None:
        body = self._es_get("/_nodes/_local?filter_path=nodes.*.version")
        if not body:
            return None
        return next(iter(body.get("nodes", {}).values()), {}).get("version")

    def _es_has_cjk(self) -> bool:
        try:
            r = self._http.request("POST", f"http://127.0.0.1:{self.s.es_port}/_analyze",
                                   body='{"analyzer":"cjk","text":"微信工作群"}'.encode(),
                                   headers={"Content-Type": "application/json"})
        except Exception:
            return False
        return r.status == 200

    # ------------------------------------------------------------------ helpers
    def _port_open(self, port: int) -> bool:
        with socket.socket() as s:
            s.settimeout(1)
            return s.connect_ex(("127.0.0.1", port)) == 0

    def _wait(self, ready, deadline: float, name: str, *logs: Path) -> None:
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(1)
        tail = "\n".join(_tail(p, 25) for p in logs)
        raise StackError(f"{name} did not become healthy within {self.s.stack_start_timeout:.0f}s", tail)


# ---------------------------------------------------------------------- configuration files
def _kafka_properties(s: Settings, data: Path) -> str:
    return f"""# written by newsmon stack up
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{s.kafka_controller_port}
listeners=PLAINTEXT://127.0.0.1:{s.kafka_port},CONTROLLER://127.0.0.1:{s.kafka_controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{s.kafka_port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data}
num.partitions={s.kafka_partitions}
# topics are created explicitly by newsmon (ensure_topics): a typo must not create a topic
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
log.retention.hours=168
num.network.threads=2
num.io.threads=4
"""


_KAFKA_LOG4J = """log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File={log}
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=3
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
"""


def _es_yaml(s: Settings, d: Path) -> str:
    return f"""# written by newsmon stack up
cluster.name: newsmon-local
node.name: newsmon-local
path.data: {d / 'data'}
path.logs: {d / 'logs'}
network.host: 127.0.0.1
http.port: {s.es_port}
transport.port: {s.es_transport_port}
discovery.type: single-node
xpack.security.enabled: false
# dev machines fill their disks: do not turn indices read-only under the tests' feet
cluster.routing.allocation.disk.threshold_enabled: false
"""


# ---------------------------------------------------------------------- process helpers
def _run_mvn(args: list[str], what: str) -> None:
    mvn = shutil.which("mvn")
    if not mvn:
        raise StackError("Maven (mvn) is not installed: the local stack is fetched from Maven Central with it")
    res = subprocess.run([mvn, "-q", "-B", *args], capture_output=True, text=True, timeout=1800)
    if res.returncode != 0:
        raise StackError(f"Maven failed while {what}", (res.stdout + res.stderr)[-4000:])


def _java() -> str:
    java = shutil.which("java")
    if not java:
        raise StackError("Java 17+ is not installed: Kafka and Elasticsearch need it")
    return java


def _java_home() -> str:
    if os.environ.get("ES_JAVA_HOME"):
        return os.environ["ES_JAVA_HOME"]
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    return str(Path(os.path.realpath(_java())).parent.parent)


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)


def _chown_tree(path: Path, user: str) -> None:
    pw = pwd.getpwnam(user)
    for root, _dirs, files in os.walk(path):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for f in files:
            os.chown(os.path.join(root, f), pw.pw_uid, pw.pw_gid)


def _make_traversable(path: Path) -> None:
    """The ES user must be able to reach ES_HOME through every parent directory."""
    for p in [path, *path.parents]:
        try:
            mode = p.stat().st_mode
            if not mode & 0o001:
                p.chmod(mode | 0o001)
        except PermissionError:
            break


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _stop_pid(pid: int, grace: float = 30.0) -> bool:
    if not _alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    return True


def _tail(path: Path, lines: int) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 200 * lines))
            return "\n".join(fh.read().decode("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return ""
