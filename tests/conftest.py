"""Session fixtures: the real local stack (started once per test session, reused if running)
and an isolated namespace so tests never touch the demo's topics and indices."""

from __future__ import annotations

import os
import uuid

import pytest

from newsmon.settings import Settings, load_settings

SEEDS_DIR = os.environ.get("NEWSMON_SEEDS_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "seeds"))


@pytest.fixture(scope="session")
def stack():
    """Reuse a running local stack or start one; stop at the end only what this session started."""
    from deploy.local.stack import LocalStack

    base = load_settings()
    local = LocalStack(base)
    before = {s.name: s.healthy for s in local.status()}
    statuses, _ = local.up(progress=lambda m: print(f"[stack] {m}"))
    bad = [s for s in statuses if not s.healthy]
    if bad:
        pytest.fail(f"local stack not healthy: {bad}")
    yield local
    if os.environ.get("NEWSMON_KEEP_STACK") or all(before.values()):
        return
    if not any(before.values()):
        local.down(progress=lambda m: print(f"[stack] {m}"))


@pytest.fixture(scope="session")
def settings(stack) -> Settings:
    """Settings with a fresh namespace: topics `t-xxxx.newsmon.*`, indices `t-xxxx-newsmon-*`."""
    ns = f"t-{uuid.uuid4().hex[:8]}"
    os.environ["NEWSMON_NAMESPACE"] = ns  # for CLI subprocesses
    s = load_settings(namespace=ns)
    yield s
    _cleanup_namespace(s)


@pytest.fixture
def fresh_settings(settings, request) -> Settings:
    """Settings with a namespace of this test's own (inside the session's, so cleanup covers it):
    for tests that count everything on a topic."""
    return load_settings(namespace=f"{settings.namespace}-{uuid.uuid4().hex[:6]}")


def _cleanup_namespace(s: Settings) -> None:
    from newsmon.es import make_es
    from newsmon.kafka import make_admin

    try:
        es = make_es(s)
        # destructive_requires_name forbids wildcard deletes: resolve the names first
        names = list(es.options(ignore_status=404).indices.get(index=f"{s.namespace}-*", expand_wildcards="all").body)
        for i in range(0, len(names), 50):
            es.options(ignore_status=404).indices.delete(index=",".join(names[i:i + 50]))
        for tpl in es.options(ignore_status=404).indices.get_index_template(name=f"{s.namespace}-*").get("index_templates", []):
            es.indices.delete_index_template(name=tpl["name"])
    except Exception as exc:  # cleanup must not hide the test result
        print(f"[cleanup] elasticsearch: {exc}")
    try:
        admin = make_admin(s)
        mine = [t for t in admin.list_topics() if t.startswith(s.namespace)]
        if mine:
            admin.delete_topics(mine)
        admin.close()
    except Exception as exc:
        print(f"[cleanup] kafka: {exc}")


@pytest.fixture(scope="session")
def seeds_dir() -> str:
    if not os.path.isdir(SEEDS_DIR):
        pytest.skip(f"seed pages not found at {SEEDS_DIR} (set NEWSMON_SEEDS_DIR)")
    return SEEDS_DIR
