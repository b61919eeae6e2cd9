"""Kibana saved objects: the NDJSON parses and hangs together, it is what the builder produces, every
field it uses exists in the real index mapping with a type Kibana can aggregate where it
aggregates, and `newsmon kibana import` speaks Kibana's import API (multipart + kbn-xsrf).

No Kibana runs on these machines, so the import test talks to a small HTTP server on 127.0.0.1
that implements the import contract: it parses the multipart upload and answers per object."""

from __future__ import annotations

import json
import threading
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newsmon.es import make_es
from newsmon.schemas import MEASURES
from newsmon.settings import load_settings
from search.indices import init_all
from search.kibana import NDJSON_PATH, SavedObjectsError, load_objects, parse_ndjson
from search.kibana.checks import field_problems, field_uses, reference_problems, view_indices, with_namespace
from search.kibana.objects import DASHBOARD_ID, DASHBOARD_TITLE, build_objects, measure_search_id, to_ndjson
from tests.search.helpers import cli, delete_namespace_indices, own_namespace


def test_every_line_parses_and_every_reference_resolves():
    objects = load_objects()
    assert len(objects) == len(NDJSON_PATH.read_text(encoding="utf-8").splitlines())
    assert reference_problems(objects) == []


def test_the_shipped_file_is_what_the_builder_produces():
    assert NDJSON_PATH.read_text(encoding="utf-8") == to_ndjson(build_objects()), \
        "regenerate: python -m search.kibana.objects > search/kibana/newsmon.ndjson"


def test_the_dashboard_has_the_panels_analysts_asked_for():
    objects = {(o["type"], o["id"]): o for o in load_objects()}
    board = objects[("dashboard", DASHBOARD_ID)]
    assert board["attributes"]["title"] == DASHBOARD_TITLE
    panels = {r["id"]: r["type"] for r in board["references"]}
    titles = {objects[(t, i)]["attributes"]["title"] for i, t in panels.items()}
    assert {"基层减负报道数量", "基层减负报道地区分布", "按减负措施", "报道最多的媒体", "最大的减负数字", "最新减负行动"} <= titles
    assert sorted(panels.values()).count("lens") == 4 and "map" in panels.values()
    # largest figures first; latest campaigns newest first
    assert objects[("search", "newsmon-largest-figures")]["attributes"]["sort"] == [["lead_figure.value", "desc"]]
    assert objects[("search", "newsmon-latest-campaigns")]["attributes"]["sort"] == [["first_seen", "desc"]]
    for m in MEASURES:
        query = json.loads(objects[("search", measure_search_id(m))]["attributes"]["kibanaSavedObjectMeta"]
                           ["searchSourceJSON"])["query"]["query"]
        assert f'measures : "{m}"' in query and "relevant : true" in query
    views = {o["id"]: o["attributes"] for o in objects.values() if o["type"] == "index-pattern"}
    assert views["newsmon-articles"]["timeFieldName"] == "@timestamp"
    assert json.loads(views["newsmon-articles"]["fieldFormatMap"])["url"]["id"] == "url"
    assert views["newsmon-campaigns"]["title"] == "newsmon-campaigns"


def test_broken_files_are_reported_in_one_line():
    with pytest.raises(SavedObjectsError, match=":2: not JSON"):
        parse_ndjson('{"type": "search", "id": "a"}\n{"type": ')
    objects = build_objects()
    objects[-1]["references"][0]["id"] = "missing-lens"
    problems = reference_problems(objects)
    assert any("missing-lens" in p and "not in the file" in p for p in problems)


@pytest.fixture(scope="module")
def real_indices(settings):
    s = own_namespace(settings, "kbn")
    init_all(make_es(s), s)
    yield s
    delete_namespace_indices(s)


@pytest.mark.integration
def test_every_field_the_objects_use_exists_in_the_real_mapping_and_aggregates_where_needed(real_indices):
    objects = with_namespace(load_objects(), real_indices)
    es = make_es(real_indices)
    caps = {view: es.field_caps(index=index, fields="*")["fields"] for view, index in view_indices(objects).items()}
    uses = field_uses(objects)
    assert {u.purpose for u in uses} >= {"aggregate", "sort", "time", "query", "display", "format"}
    aggregated = {u.field for u in uses if u.purpose == "aggregate"}
    assert {"@timestamp", "measure_labels", "regions.province", "outlet", "regions.location"} <= aggregated
    assert field_problems(uses, caps) == []

    # the check does catch what Kibana could not draw: a text field aggregated, a missing field
    broken = [u.__class__(u.object_type, u.object_id, u.view_id, f, "aggregate")
              for u, f in [(uses[0], "text"), (uses[0], "no_such_field")]]
    problems = field_problems(broken, caps)
    assert len(problems) == 2 and "not aggregatable" in problems[0] and "not in the mapping" in problems[1]


@pytest.mark.integration
def test_kibana_check_command_passes_against_the_real_indices(real_indices):
    out = cli(real_indices, "kibana", "check")
    assert out.returncode == 0, out.stderr
    assert "all fields exist" in out.stdout


class FakeKibana(BaseHTTPRequestHandler):
    """Kibana's saved-objects import and advanced-settings APIs, as far as newsmon uses them."""

    received: list[dict] = []
    settings_changes: list[dict] = []
    require_auth: str | None = None

    def log_message(self, *args):  # keep test output clean
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.require_auth and self.headers.get("Authorization") != self.require_auth:
            return self._answer(401, {"statusCode": 401, "error": "Unauthorized", "message": "Unauthorized"})
        if not self.headers.get("kbn-xsrf"):
            return self._answer(400, {"statusCode": 400, "message": "Request must contain a kbn-xsrf header."})
        if self.path.startswith("/api/saved_objects/_import"):
            message = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
            [part] = [p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"]
            objects = parse_ndjson(part.get_content().decode("utf-8") if isinstance(part.get_content(), bytes)
                                   else part.get_content())
            FakeKibana.received = objects
            results = [{"type": o["type"], "id": o["id"], "meta": {"title": o["attributes"].get("title", "")},
                        **({"overwrite": True} if "overwrite=true" in self.path else {})} for o in objects]
            return self._answer(200, {"success": True, "successCount": len(objects), "successResults": results})
        if self.path == "/api/kibana/settings":
            FakeKibana.settings_changes.append(json.loads(body)["changes"])
            return self._answer(200, {"settings": {}})
        return self._answer(404, {"statusCode": 404, "message": "Not Found"})


@pytest.fixture
def kibana_settings():
    """A namespace for CLI runs that talk only to the stand-in Kibana (no stack needed)."""
    return load_settings(namespace=f"t-kbn-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def fake_kibana():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeKibana)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeKibana.received, FakeKibana.settings_changes, FakeKibana.require_auth = [], [], None
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_import_posts_every_object_and_reports_what_was_created(kibana_settings, fake_kibana):
    settings = kibana_settings
    out = cli(settings, "kibana", "import", "--url", fake_kibana)
    assert out.returncode == 0, out.stderr
    shipped = load_objects()
    assert len(FakeKibana.received) == len(shipped)
    # the namespace of this process is applied: data views read its indices, ids do not collide
    views = {o["attributes"]["title"] for o in FakeKibana.received if o["type"] == "index-pattern"}
    assert views == {settings.index("newsmon-articles"), settings.index("newsmon-campaigns")}
    assert all(o["id"].startswith(settings.namespace) for o in FakeKibana.received)
    assert reference_problems(FakeKibana.received) == []
    assert FakeKibana.settings_changes == [
        {"query:queryString:options": json.dumps({"analyze_wildcard": True, "default_operator": "AND"})}]
    assert (f"imported {len(shipped)} saved objects (2 index-pattern, 12 search, 4 lens, 1 map, 1 dashboard; "
            f"0 created, {len(shipped)} overwritten) into {fake_kibana}") in out.stdout


def test_import_sends_credentials_and_explains_refusals_in_one_line(kibana_settings, fake_kibana):
    settings = kibana_settings
    FakeKibana.require_auth = "ApiKey c2VjcmV0"
    out = cli(settings, "kibana", "import", "--url", fake_kibana, "--api-key", "c2VjcmV0", "--keep-settings")
    assert out.returncode == 0, out.stderr
    assert FakeKibana.settings_changes == []                 # --keep-settings
    out = cli(settings, "kibana", "import", "--url", fake_kibana, "--user", "elastic", "--password", "wrong")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"error: Kibana at {fake_kibana} refused the request (401): check --user/--password or --api-key"]


def test_unreachable_kibana_is_a_clear_error(kibana_settings):
    settings = kibana_settings
    out = cli(settings, "kibana", "import", "--url", "http://127.0.0.1:9")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("error: Kibana at http://127.0.0.1:9 is unreachable")


def test_namespace_copy_keeps_objects_consistent(kibana_settings):
    settings = kibana_settings
    objects = with_namespace(build_objects(), settings)
    assert reference_problems(objects) == []
    assert to_ndjson(build_objects()) == NDJSON_PATH.read_text(encoding="utf-8")  # the original is untouched
