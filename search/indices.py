"""Index management: templates, versioned indices behind aliases, status, and zero-downtime migration.

Layout for each contract name (say `newsmon-articles`, namespace applied by `settings.index`):

    template  newsmon-articles            matches newsmon-articles-v*, versioned like the mapping
    indices   newsmon-articles-v1-000001  physical, `_meta.mapping_version` in the mapping
              newsmon-articles-v2-000002  ...the generation number grows with every migration
    alias     newsmon-articles            → exactly one physical index, is_write_index=true

`init` is idempotent: it puts the templates and creates the first index with its alias when none
exists; it never rewrites an existing index (a different mapping version means `migrate`).

`migrate` works without `_reindex` (absent from the local node): it creates the next generation
from the current template, copies every document with scroll + bulk (rebuilding article
documents from their stored story fields, so new derived fields get values), copies what the
indexer wrote meanwhile, switches the alias in one atomic `_aliases` call, and finally copies the
few documents written between the last pass and the switch with optimistic concurrency
(`create`, or `if_seq_no`) so it never overwrites a newer write of the indexer. Searches go to
the old index until the switch and to the complete new one after it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError
from elasticsearch import helpers as es_helpers

from newsmon.settings import INDEX_ARTICLES, INDEX_CAMPAIGNS, Settings
from search.documents import rebuild_document
from search.mappings import (
    ARTICLES_MAPPING_VERSION,
    CAMPAIGNS_MAPPING_VERSION,
    TEMPLATE_PRIORITY,
    articles_mappings,
    articles_settings,
    campaigns_mappings,
    campaigns_settings,
)

Progress = Callable[[str], None]


class IndexManagementError(Exception):
    """A problem with indices or aliases, with a one-line message fit for the CLI."""


@dataclass(frozen=True)
class IndexSpec:
    key: str                                   # CLI name: articles | campaigns
    name: str                                  # contract name (alias), before the namespace
    version: int
    mappings: Callable[[], dict[str, Any]]
    settings: Callable[[], dict[str, Any]]
    changed_field: str                         # date that moves whenever a document is (re)written
    rebuild: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # _source → new document


ARTICLES = IndexSpec("articles", INDEX_ARTICLES, ARTICLES_MAPPING_VERSION, articles_mappings, articles_settings,
                     "indexed_at", rebuild_document)
CAMPAIGNS = IndexSpec("campaigns", INDEX_CAMPAIGNS, CAMPAIGNS_MAPPING_VERSION, campaigns_mappings,
                      campaigns_settings, "updated_at")
SPECS: dict[str, IndexSpec] = {s.key: s for s in (ARTICLES, CAMPAIGNS)}


def physical_name(alias: str, version: int, generation: int) -> str:
    return f"{alias}-v{version}-{generation:06d}"


def _generation(alias: str, index: str) -> int | None:
    m = re.fullmatch(re.escape(alias) + r"-v\d+-(\d{6})", index)
    return int(m.group(1)) if m else None


def _say(progress: Progress | None, message: str) -> None:
    if progress:
        progress(message)


# --------------------------------------------------------------------------------------- templates
def template_body(alias: str, spec: IndexSpec) -> dict[str, Any]:
    return {
        "index_patterns": [f"{alias}-v*"],
        "priority": TEMPLATE_PRIORITY,
        "version": spec.version,
        "_meta": {"managed_by": "newsmon", "alias": alias},
        "template": {"settings": {"index": spec.settings()}, "mappings": spec.mappings()},
    }


def put_template(es: Elasticsearch, alias: str, spec: IndexSpec) -> str:
    """Create or update the template; returns created | updated | unchanged."""
    body = template_body(alias, spec)
    existing = es.options(ignore_status=404).indices.get_index_template(name=alias).get("index_templates", [])
    if existing:
        current = existing[0]["index_template"]
        if current.get("version") == spec.version and current.get("_meta") == body["_meta"] and \
                current.get("template", {}).get("mappings") == body["template"]["mappings"]:
            return "unchanged"
    es.indices.put_index_template(name=alias, **body)
    return "updated" if existing else "created"


# --------------------------------------------------------------------------------------- aliases
def alias_targets(es: Elasticsearch, alias: str) -> dict[str, bool]:
    """Physical indices behind `alias` → whether each is the write index."""
    try:
        resp = es.indices.get_alias(name=alias)
    except NotFoundError:
        return {}
    out: dict[str, bool] = {}
    for index, body in resp.items():
        meta = body.get("aliases", {}).get(alias, {})
        out[index] = bool(meta.get("is_write_index", len(resp) == 1))
    return out


def write_index(es: Elasticsearch, alias: str) -> str | None:
    targets = alias_targets(es, alias)
    writers = [i for i, w in targets.items() if w]
    return writers[0] if writers else None


def mapping_version(es: Elasticsearch, index: str) -> int | None:
    mapping = es.indices.get_mapping(index=index)[index]["mappings"]
    version = mapping.get("_meta", {}).get("mapping_version")
    return int(version) if version is not None else None


def _indices(es: Elasticsearch, pattern: str) -> dict[str, Any]:
    """Physical indices matching a name, alias or pattern ({} when none)."""
    resp = es.options(ignore_status=404).indices.get(index=pattern, expand_wildcards="all")
    return {k: v for k, v in resp.body.items() if k not in ("error", "status")}


def _is_concrete_index(es: Elasticsearch, name: str) -> bool:
    # for an alias the answer is keyed by the indices behind it, never by the alias itself
    return name in _indices(es, name)


# --------------------------------------------------------------------------------------- init
@dataclass
class InitResult:
    alias: str
    template: str               # created | updated | unchanged
    index: str                  # the write index
    action: str                 # created | exists | needs migration | newer than this code
    index_version: int | None
    code_version: int


def init_index(es: Elasticsearch, settings: Settings, spec: IndexSpec) -> InitResult:
    alias = settings.index(spec.name)
    template = put_template(es, alias, spec)
    if _is_concrete_index(es, alias):
        raise IndexManagementError(
            f"{alias} is a plain index, not an alias (written to before `newsmon index init`?); "
            f"move its documents with `newsmon index migrate --from {alias}` or delete it")
    current = write_index(es, alias)
    if current is None:
        current = physical_name(alias, spec.version, 1)
        try:
            es.indices.create(index=current, aliases={alias: {"is_write_index": True}})
            action = "created"
        except ApiError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
            # another process created it first (or the alias was removed by hand): attach it
            es.indices.update_aliases(actions=[{"add": {"index": current, "alias": alias, "is_write_index": True}}])
            action = "exists"
        return InitResult(alias, template, current, action, spec.version, spec.version)
    version = mapping_version(es, current)
    if version == spec.version:
        action = "exists"
    elif version is None or version < spec.version:
        action = "needs migration"
    else:
        action = "newer than this code"
    return InitResult(alias, template, current, action, version, spec.version)


def init_all(es: Elasticsearch, settings: Settings, specs: Iterable[IndexSpec] = (ARTICLES, CAMPAIGNS)) -> list[InitResult]:
    return [init_index(es, settings, spec) for spec in specs]


def ensure_current(es: Elasticsearch, settings: Settings, spec: IndexSpec) -> str:
    """Init if needed and check the write index has this code's mapping version; return the alias.
    Raises IndexManagementError when a migration is needed first (writers must wait for it:
    a strict mapping would reject documents with fields it does not know)."""
    result = init_index(es, settings, spec)
    if result.action in ("needs migration", "newer than this code"):
        raise IndexManagementError(
            f"{result.alias} is at mapping v{result.index_version}, this code writes v{spec.version}: "
            + ("run `newsmon index migrate`" if result.action == "needs migration" else "upgrade this process"))
    return result.alias


# --------------------------------------------------------------------------------------- status
@dataclass
class PhysicalIndex:
    name: str
    docs: int
    size_bytes: int
    health: str
    mapping_version: int | None
    is_write_index: bool
    in_alias: bool


@dataclass
class IndexStatus:
    key: str
    alias: str
    code_version: int
    template_version: int | None
    cluster_health: str
    indices: list[PhysicalIndex] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def write_index(self) -> PhysicalIndex | None:
        return next((i for i in self.indices if i.is_write_index), None)

    @property
    def ok(self) -> bool:
        return not self.problems


def index_status(es: Elasticsearch, settings: Settings, spec: IndexSpec) -> IndexStatus:
    alias = settings.index(spec.name)
    health = es.cluster.health()["status"]
    templates = es.options(ignore_status=404).indices.get_index_template(name=alias).get("index_templates", [])
    status = IndexStatus(spec.key, alias, spec.version, templates[0]["index_template"].get("version") if templates else None,
                         health)
    targets = alias_targets(es, alias)
    rows = es.options(ignore_status=404).cat.indices(index=f"{alias}-v*", format="json", bytes="b",
                                                     expand_wildcards="all").body
    for row in sorted(rows if isinstance(rows, list) else [], key=lambda r: r["index"]):
        name = row["index"]
        status.indices.append(PhysicalIndex(
            name=name, docs=es.count(index=name)["count"], size_bytes=int(row.get("store.size") or 0),
            health=row.get("health", "?"), mapping_version=mapping_version(es, name),
            is_write_index=targets.get(name, False), in_alias=name in targets))
    if not templates:
        status.problems.append("no template: run `newsmon index init`")
    elif status.template_version != spec.version:
        status.problems.append(f"template at v{status.template_version}: run `newsmon index init`")
    if not targets:
        status.problems.append("no alias: run `newsmon index init`")
    elif status.write_index is None:
        status.problems.append("the alias has no write index")
    elif status.write_index.mapping_version != spec.version:
        status.problems.append(f"write index at mapping v{status.write_index.mapping_version}, code at "
                               f"v{spec.version}: run `newsmon index migrate`")
    return status


# --------------------------------------------------------------------------------------- migrate
@dataclass
class MigrationResult:
    alias: str
    source: str | None
    target: str | None
    copied: int = 0
    caught_up: int = 0
    seconds: float = 0.0
    deleted_source: bool = False
    skipped: str | None = None     # why nothing was done


# Indexer hosts' clocks may run behind ours: catch-up passes look this far back.
_CLOCK_SLACK = timedelta(seconds=30)


def migrate_index(es: Elasticsearch, settings: Settings, spec: IndexSpec, *, force: bool = False,
                  delete_source: bool = False, from_index: str | None = None, batch_size: int = 500,
                  progress: Progress | None = None) -> MigrationResult:
    """Move `spec`'s alias to a new physical index with the current mapping. `from_index` names a
    plain index to adopt (one auto-created under the alias name by a write before init)."""
    started = time.monotonic()
    alias = settings.index(spec.name)
    put_template(es, alias, spec)
    adopting = from_index is not None
    if adopting:
        if not es.indices.exists(index=from_index):
            raise IndexManagementError(f"index {from_index} does not exist")
        source = from_index
    else:
        source = write_index(es, alias)
        if source is None:
            raise IndexManagementError(f"{alias} has no write index: run `newsmon index init` first")
        version = mapping_version(es, source)
        if version == spec.version and not force:
            return MigrationResult(alias, source, None, skipped=f"{source} already has mapping v{spec.version} "
                                   "(use --force to rebuild it anyway)")
        if version is not None and version > spec.version:
            raise IndexManagementError(f"{source} has mapping v{version}, newer than this code (v{spec.version})")

    generations = [g for g in (_generation(alias, n) for n in _indices(es, f"{alias}-v*")) if g is not None]
    target = physical_name(alias, spec.version, max(generations, default=0) + 1)
    target_settings = spec.settings()
    # No refreshes and no replicas while bulk-copying; restored before the switch.
    es.indices.create(index=target, settings={"index": {
        "refresh_interval": "-1", "auto_expand_replicas": "false", "number_of_replicas": 0}})
    _say(progress, f"created {target} (mapping v{spec.version}); copying from {source}")

    result = MigrationResult(alias, source, target)
    try:
        since = datetime.now(UTC) - _CLOCK_SLACK
        result.copied = _copy(es, source, target, spec, batch_size)
        _say(progress, f"copied {result.copied} documents")
        for _ in range(3):  # what the indexer wrote during the copy (shrinks every pass)
            pass_started = datetime.now(UTC) - _CLOCK_SLACK
            es.indices.refresh(index=[source, target])
            n = _copy_newer(es, source, target, spec, since)
            result.caught_up += n
            since = pass_started
            if n == 0:
                break
        es.indices.put_settings(index=target, settings={"index": {
            "refresh_interval": target_settings.get("refresh_interval", "1s"),
            "auto_expand_replicas": target_settings.get("auto_expand_replicas", "0-1")}})
        es.indices.refresh(index=target)
    except BaseException:
        es.options(ignore_status=404).indices.delete(index=target)
        raise

    if adopting:
        # the alias name is taken by the plain index itself: remove it and add the alias atomically
        es.indices.update_aliases(actions=[
            {"remove_index": {"index": source}},
            {"add": {"index": target, "alias": alias, "is_write_index": True}}])
        result.deleted_source = True
    else:
        actions: list[dict[str, Any]] = [{"add": {"index": target, "alias": alias, "is_write_index": True}}]
        actions += [{"remove": {"index": old, "alias": alias}} for old in alias_targets(es, alias)]
        es.indices.update_aliases(actions=actions)
        _say(progress, f"{alias} → {target}")
        es.indices.refresh(index=[source, target])
        result.caught_up += _copy_newer(es, source, target, spec, since)
        if delete_source:
            es.indices.delete(index=source)
            result.deleted_source = True
    es.indices.refresh(index=target)
    result.seconds = time.monotonic() - started
    return result


def _scan(es: Elasticsearch, index: str, spec: IndexSpec, since: datetime | None) -> Iterator[dict[str, Any]]:
    query: dict[str, Any] = {"match_all": {}}
    if since is not None:
        query = {"range": {spec.changed_field: {"gte": since.isoformat()}}}
    # scroll + _doc order: the cheapest full read, available on every node
    yield from es_helpers.scan(es, index=index, query={"query": query}, size=500, scroll="5m",
                               preserve_order=False)


def _transform(spec: IndexSpec, source: dict[str, Any]) -> dict[str, Any]:
    return spec.rebuild(source) if spec.rebuild else source


def _copy(es: Elasticsearch, source: str, target: str, spec: IndexSpec, batch_size: int) -> int:
    """Copy every document (rebuilt for the target's mapping); any refused one aborts the migration."""
    def actions() -> Iterator[dict[str, Any]]:
        for hit in _scan(es, source, spec, None):
            yield {"_op_type": "index", "_index": target, "_id": hit["_id"], "_source": _transform(spec, hit["_source"])}

    ok, errors = es_helpers.bulk(es, actions(), chunk_size=batch_size, max_chunk_bytes=10 * 1024 * 1024,
                                 raise_on_error=False, max_retries=5, initial_backoff=1)
    if errors:
        first = errors[0].get("index", errors[0])
        raise IndexManagementError(f"{len(errors)} documents could not be copied to {target}, e.g. "
                                   f"{first.get('_id')}: {first.get('error', {}).get('reason', first)}")
    return ok


def _copy_newer(es: Elasticsearch, source: str, target: str, spec: IndexSpec, since: datetime,
                chunk: int = 500) -> int:
    """Copy documents the source changed since `since` that the target lacks or holds in an older
    version. Guarded by optimistic concurrency (`create`, `if_seq_no`), so after the alias switch
    a newer write of the indexer to the target always wins (409, skipped)."""
    written = 0
    hits = _scan(es, source, spec, since)
    while batch := [h for _, h in zip(range(chunk), hits, strict=False)]:
        found = {d["_id"]: d for d in es.mget(index=target, ids=[h["_id"] for h in batch])["docs"]}
        operations: list[dict[str, Any]] = []
        for hit in batch:
            current = found.get(hit["_id"], {})
            if not current.get("found"):
                operations += [{"create": {"_index": target, "_id": hit["_id"]}}, _transform(spec, hit["_source"])]
            elif _instant(current["_source"].get(spec.changed_field)) < _instant(hit["_source"].get(spec.changed_field)):
                operations += [{"index": {"_index": target, "_id": hit["_id"], "if_seq_no": current["_seq_no"],
                                          "if_primary_term": current["_primary_term"]}},
                               _transform(spec, hit["_source"])]
        if not operations:
            continue
        for item in es.bulk(operations=operations)["items"]:
            outcome = next(iter(item.values()))
            if outcome["status"] in (200, 201):
                written += 1
            elif outcome["status"] != 409:  # 409: the indexer wrote a newer version meanwhile, which wins
                raise IndexManagementError(f"catch-up copy to {target} failed: {outcome.get('error')}")
    return written


def _instant(value: Any) -> datetime:
    if not value:
        return datetime.min.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
