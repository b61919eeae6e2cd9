"""The supervisor with real child processes (no broker needed): restart with backoff, graceful stop,
one log file per process."""

from __future__ import annotations

import json
import os
import time

from newsmon.mailcatcher import free_port
from newsmon.supervisor import ProcessSpec, Supervisor


def _events(sup: Supervisor) -> list[dict]:
    return [json.loads(line) for line in (sup.log_dir / "supervisor.log").read_text().splitlines()]


def test_a_crashing_process_is_restarted_with_growing_backoff(tmp_path):
    sup = Supervisor([ProcessSpec("broken-1", "broken", ("no-such-command",))], run_dir=tmp_path,
                     env=dict(os.environ), backoff_initial=0.2, backoff_max=1.0, stable_after=30)
    sup.start()
    deadline = time.monotonic() + 20
    while sup.processes[0].restarts < 3 and time.monotonic() < deadline:
        sup.tick()
        time.sleep(0.05)
    sup.stop(grace=5)
    exits = [e for e in _events(sup) if e["event"] == "exited"]
    assert len(exits) >= 3 and all(e["code"] == 2 for e in exits)      # click's usage error
    assert [e["restart_in_s"] for e in exits[:3]] == [0.2, 0.4, 0.8]
    assert "No such command" in (sup.log_dir / "broken-1.log").read_text()


def test_stop_sends_sigterm_and_each_process_exits_in_time(tmp_path):
    port = free_port()
    sup = Supervisor([ProcessSpec("mail-1", "mail", ("mailcatcher", "--port", str(port))),
                      ProcessSpec("site-1", "site", ("demo-site", "--port", str(free_port())))],
                     run_dir=tmp_path, env=dict(os.environ))
    sup.start()
    mail_log = sup.log_dir / "mail-1.log"
    deadline = time.monotonic() + 60           # the CLI takes a few seconds to start on a busy machine
    while f"listening on 127.0.0.1:{port}" not in mail_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    sup.tick()
    assert sup.by_stage() == {"mail": {"alive": 1, "total": 1, "restarts": 0},
                              "site": {"alive": 1, "total": 1, "restarts": 0}}
    started = time.monotonic()
    codes = sup.stop(grace=15)
    assert time.monotonic() - started < 15
    assert set(codes) == {"mail-1", "site-1"} and all(c is not None for c in codes.values())
    assert not any(e["event"] == "killed" for e in _events(sup))
    assert "stopped after 0 message(s)" in mail_log.read_text() or codes["mail-1"] == -15
