"""The fault tests' own stack: a Kafka broker and an Elasticsearch node of their own, on other ports
and in a temporary directory, started once for tests/faults and thrown away at the end.

The tests kill and stop these services; the shared dev stack (9092/9200, used by other test
sessions at the same time) and the session's `stack` are never touched. The download cache is the
shared one, so nothing is downloaded again.
"""

from __future__ import annotations

import logging
import shutil
import socket
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from newsmon.settings import Settings, load_settings
from tests.faults.harness import Stage

# Preferred ports (a free one is taken instead when one of these is busy).
FAULT_PORTS = {"kafka_port": 19192, "kafka_controller_port": 19193, "es_port": 19292, "es_transport_port": 19392}


def _port(preferred: int, taken: set[int]) -> int:
    for port in (preferred, 0):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is no obstacle
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            got = s.getsockname()[1]
            if got not in taken:
                return got
    raise RuntimeError(f"no free port for the fault stack (wanted {preferred})")


@pytest.fixture(scope="package")
def fault_stack():
    """A LocalStack of the fault tests' own, healthy; killed and deleted after the last fault test."""
    from deploy.local.stack import LocalStack, _make_traversable

    stack_dir = Path(tempfile.mkdtemp(prefix="newsmon-faults-"))
    _make_traversable(stack_dir)  # as root, Elasticsearch runs as the `newsmon` user: it must get in
    ports: dict[str, int] = {}
    for name, preferred in FAULT_PORTS.items():
        ports[name] = _port(preferred, set(ports.values()))
    base = load_settings(namespace="", stack_dir=stack_dir, kafka_heap="512m", es_heap="512m",
                         kafka_bootstrap=f"127.0.0.1:{ports['kafka_port']}",
                         es_url=f"http://127.0.0.1:{ports['es_port']}", **ports)
    stack = LocalStack(base)
    t0 = time.monotonic()
    try:
        statuses, _ = stack.up(progress=lambda m: print(f"[fault stack] {m}"))
        bad = [s for s in statuses if not s.healthy or not s.managed]
        if bad:
            pytest.fail(f"fault stack not healthy or not ours: {bad}")
        print(f"[fault stack] up in {time.monotonic() - t0:.0f}s: kafka {ports['kafka_port']}, "
              f"elasticsearch {ports['es_port']}, {stack_dir}")
        yield stack
    finally:
        for service in ("elasticsearch", "kafka"):
            if stack.pid(service):
                stack.kill(service)  # the data is thrown away: no need for a clean shutdown
        shutil.rmtree(stack_dir, ignore_errors=True)


@pytest.fixture
def fault_settings(fault_stack) -> Settings:
    """Settings for the fault stack with a namespace of this test's own."""
    return fault_stack.s.model_copy(update={"namespace": f"f-{uuid.uuid4().hex[:8]}"})


@pytest.fixture
def stages(fault_settings, tmp_path):
    """Start `newsmon consume <stage>` processes: `stages(name, *args, env=...)`; all are stopped
    (and killed if they do not stop) at the end of the test."""
    started: list[Stage] = []

    def _start(name: str, *args: str, env: dict[str, str] | None = None) -> Stage:
        stage = Stage(name, fault_settings, tmp_path / f"{name}-{len(started)}.log", args, env or {})
        started.append(stage.start())
        return stage

    yield _start
    for stage in started:
        stage.stop(timeout=20)


@pytest.fixture(autouse=True)
def _quiet_kafka_client():
    """The test process's own Kafka clients log every refused connection while a broker is down on
    purpose; keep failure reports readable (the stages' own logs are in their log files)."""
    logger = logging.getLogger("kafka")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)
