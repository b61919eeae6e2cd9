"""`newsmon alerts ...` and `newsmon mailcatcher` as a user runs them: real processes, real stack,
an SMTP server on 127.0.0.1; bad input is one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsmon.mailcatcher import free_port
from tests.alerts.conftest import produce_stories, run_alerter
from tests.alerts.corpus import seed_stories

pytestmark = pytest.mark.integration
NEWSMON = [sys.executable, "-m", "newsmon"]


def cli(settings, *args, extra_env=None, check=True):
    env = os.environ | {"NEWSMON_NAMESPACE": settings.namespace, "NEWSMON_SMTP_PORT": str(settings.smtp_port),
                        "NEWSMON_SMTP_HOST": "127.0.0.1", "COLUMNS": "200"} | (extra_env or {})
    done = subprocess.run([*NEWSMON, *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.mark.parametrize("args, message", [
    (["subscribe", "not-an-address"], "error: invalid e-mail address 'not-an-address'"),
    (["subscribe", "a@example.org", "--region", "火星"], "error: unknown region '火星'"),
    (["subscribe", "a@example.org", "--measure", "apps"], "error: unknown measure 'apps'"),
    (["subscribe", "a@example.org", "--query", "工作群 AND ("], "error: query does not parse: Cannot parse"),
    (["subscribe", "a@example.org", "--mode", "weekly"], "error: unknown mode 'weekly'"),
    (["unsubscribe", "nobody@example.org"], "error: nobody@example.org is not subscribed"),
    (["pause", "nobody@example.org"], "error: nobody@example.org is not subscribed"),
    (["history", "--since", "yesterday"], "error: bad --since 'yesterday'"),
    (["history", "--status", "lost"], "error: unknown status 'lost'"),
    (["preview", "no-such-campaign"], "error: no campaign 'no-such-campaign'"),
    (["retry"], "error: give alert ids or --failed"),
])
def test_bad_input_is_one_line_and_a_failure(mail_settings, args, message):
    done = cli(mail_settings, "alerts", *args, check=False)
    assert done.returncode != 0
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_subscription_lifecycle_history_and_preview(mail_settings, fast_config, catcher, seeds_dir, tmp_path):
    out = cli(mail_settings, "alerts", "subscribe", "Analyst@Example.org", "--region", "辽宁省", "--measure",
              "work_groups", "--query", "工作群 AND 清理", "--mode", "daily").stdout
    assert out.startswith("subscribed analyst@example.org (daily): 地区: 辽宁省; 措施: 微信工作群; 检索式: 工作群 AND 清理")
    cli(mail_settings, "alerts", "subscribe", "ops@example.org")
    assert "updated ops@example.org (instant)" in cli(mail_settings, "alerts", "subscribe", "ops@example.org").stdout
    cli(mail_settings, "alerts", "pause", "analyst@example.org")
    listed = [json.loads(line) for line in cli(mail_settings, "alerts", "list", "--json").stdout.splitlines()]
    assert {(s["email"], s["mode"], s["paused"]) for s in listed} == {
        ("analyst@example.org", "daily", True), ("ops@example.org", "instant", False)}
    assert "resumed analyst@example.org" in cli(mail_settings, "alerts", "resume", "analyst@example.org").stdout

    tieling = next(s for s in seed_stories(seeds_dir) if "铁岭" in s.title)
    produce_stories(mail_settings, [tieling])
    run_alerter(mail_settings, fast_config, idle=2)
    catcher.wait_for(1)
    history = [json.loads(line) for line in
               cli(mail_settings, "alerts", "history", "--email", "ops@example.org", "--since", "1h", "--json").stdout.splitlines()]
    assert [(h["status"], h["region_name"]) for h in history] == [("sent", "辽宁省铁岭市")]
    table = cli(mail_settings, "alerts", "history").stdout
    assert "sent" in table and "ops@example.org" in table

    campaigns = [json.loads(line) for line in cli(mail_settings, "alerts", "campaigns", "--region", "辽宁省", "--json").stdout.splitlines()]
    assert [c["region_name"] for c in campaigns] == ["辽宁省铁岭市"]
    assert cli(mail_settings, "alerts", "campaigns", "--region", "湖北省", "--json").stdout == ""
    html = tmp_path / "alert.html"
    preview = cli(mail_settings, "alerts", "preview", campaigns[0]["id"], "--html", str(html)).stdout
    assert preview.startswith("Subject: 新减负行动: 辽宁省铁岭市 · 微信工作群、政务APP、政务公众号")
    assert "746个" in html.read_text(encoding="utf-8")
    assert "unsubscribed ops@example.org" in cli(mail_settings, "alerts", "unsubscribe", "ops@example.org").stdout


def test_test_command_sends_a_sample_and_masks_the_password(mail_settings, catcher):
    done = cli(mail_settings, "alerts", "test", "me@example.org", extra_env={"NEWSMON_SMTP_PASSWORD": "hunter2-secret"})
    assert "hunter2-secret" not in done.stdout + done.stderr and "password=********" in done.stdout
    [sample] = catcher.wait_for(1)
    assert sample.rcpt_tos == ("me@example.org",) and sample.subject.startswith("[测试] 新减负行动: 辽宁省铁岭市")
    down = cli(mail_settings, "alerts", "test", "me@example.org", extra_env={"NEWSMON_SMTP_PORT": str(free_port())},
               check=False)
    assert down.returncode == 1 and down.stderr.startswith("error: not sent: SMTP server 127.0.0.1:")


def test_mailcatcher_command_receives_and_saves(mail_settings, tmp_path: Path):
    port = free_port()
    env = os.environ | {"NEWSMON_NAMESPACE": mail_settings.namespace}
    proc = subprocess.Popen([*NEWSMON, "mailcatcher", "--port", str(port), "--dir", str(tmp_path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "listening on 127.0.0.1" in proc.stdout.readline()
        cli(mail_settings.model_copy(update={"smtp_port": port}), "alerts", "test", "me@example.org")
        deadline = time.monotonic() + 10
        while not list(tmp_path.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.1)
        [saved] = list(tmp_path.glob("*.eml"))
        assert b"me@example.org" in saved.read_bytes()
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    assert "me@example.org: [测试] 新减负行动" in out and "stopped after 1 message(s)" in out
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = subprocess.run([*NEWSMON, "mailcatcher", "--port", str(taken.getsockname()[1])], capture_output=True,
                              text=True, timeout=60, env=env)
    assert busy.returncode == 1 and busy.stderr.startswith("error: cannot listen on 127.0.0.1:")
