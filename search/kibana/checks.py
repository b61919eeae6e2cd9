"""Checks that saved objects hang together and fit the real indices.

- `reference_problems`: every embedded JSON string parses, every reference points at an object in
  the same file, and every name an object uses for a reference (indexRefName, panelRefName,
  indexPatternRefName, Lens layer references) is declared in its `references`.
- `field_uses`: which fields each object uses and how — aggregated (Lens columns, map grids),
  sorted, used as the time field, queried (KQL), only displayed, or formatted.
- `field_problems`: compares those uses with `_field_caps` of the indices the data views point at:
  the field must exist, and be aggregatable where it is aggregated, sorted or used as time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from newsmon.settings import Settings

Purpose = Literal["aggregate", "sort", "time", "query", "display", "format"]
_NEEDS_DOC_VALUES = {"aggregate", "sort", "time"}
# `field : value` in KQL; quoted strings are removed first so values never look like fields
_KQL_FIELD = re.compile(r"([A-Za-z_@][\w.@]*)\s*:")
_KQL_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class FieldUse:
    object_type: str
    object_id: str
    view_id: str
    field: str
    purpose: Purpose


def _json(obj: dict[str, Any], value: Any, what: str, problems: list[str]) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        problems.append(f"{obj['type']}/{obj['id']}: {what} is not JSON ({exc.msg})")
        return None


def _ref_names(obj: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {r["name"]: r for r in obj.get("references", [])}


def reference_problems(objects: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    known = {(o["type"], o["id"]) for o in objects}
    seen: set[tuple[str, str]] = set()
    for obj in objects:
        key = (obj["type"], obj["id"])
        if key in seen:
            problems.append(f"{obj['type']}/{obj['id']}: defined twice")
        seen.add(key)
        where = f"{obj['type']}/{obj['id']}"
        attrs = obj.get("attributes", {})
        for ref in obj.get("references", []):
            if (ref.get("type"), ref.get("id")) not in known:
                problems.append(f"{where}: reference {ref.get('name')} → {ref.get('type')}/{ref.get('id')} "
                                "is not in the file")
        names = _ref_names(obj)

        def need(name: str, context: str, names: dict[str, dict[str, str]] = names, where: str = where) -> None:
            if name not in names:
                problems.append(f"{where}: {context} uses reference {name!r}, which is not declared")

        source = _json(obj, attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON"), "searchSourceJSON",
                       problems)
        if isinstance(source, dict) and source.get("indexRefName"):
            need(source["indexRefName"], "searchSourceJSON")
        for key in ("fieldFormatMap", "fieldAttrs", "runtimeFieldMap", "sourceFilters", "optionsJSON",
                    "mapStateJSON", "uiStateJSON"):
            _json(obj, attrs.get(key), key, problems)
        if obj["type"] == "dashboard":
            for panel in _json(obj, attrs.get("panelsJSON"), "panelsJSON", problems) or []:
                if panel.get("panelRefName"):
                    need(f"{panel['panelIndex']}:{panel['panelRefName']}", f"panel {panel.get('panelIndex')}")
        if obj["type"] == "map":
            for layer in _json(obj, attrs.get("layerListJSON"), "layerListJSON", problems) or []:
                name = layer.get("sourceDescriptor", {}).get("indexPatternRefName")
                if name:
                    need(name, f"layer {layer.get('id')}")
        if obj["type"] == "lens":
            for layer_id in _lens_layers(attrs):
                need(f"indexpattern-datasource-layer-{layer_id}", f"Lens layer {layer_id}")
    return problems


def _lens_layers(attrs: dict[str, Any]) -> dict[str, Any]:
    return attrs.get("state", {}).get("datasourceStates", {}).get("formBased", {}).get("layers", {})


def kql_fields(query: str) -> list[str]:
    return _KQL_FIELD.findall(_KQL_STRING.sub('""', query or ""))


def field_uses(objects: list[dict[str, Any]]) -> list[FieldUse]:
    uses: list[FieldUse] = []
    for obj in objects:
        t, i = obj["type"], obj["id"]
        attrs = obj.get("attributes", {})
        names = _ref_names(obj)

        def add(view: str | None, field: str, purpose: Purpose, t: str = t, i: str = i) -> None:
            if view and field and field != "___records___":
                uses.append(FieldUse(t, i, view, field, purpose))

        if t == "index-pattern":
            add(i, attrs.get("timeFieldName"), "time")
            for f in json.loads(attrs.get("fieldFormatMap") or "{}"):
                add(i, f, "format")
            for f in json.loads(attrs.get("fieldAttrs") or "{}"):
                add(i, f, "display")
        elif t == "search":
            source = json.loads(attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON") or "{}")
            view = names.get(source.get("indexRefName", ""), {}).get("id")
            for f in attrs.get("columns", []):
                add(view, f, "display")
            for f, _direction in attrs.get("sort", []):
                add(view, f, "sort")
            for f in kql_fields(source.get("query", {}).get("query", "")):
                add(view, f, "query")
        elif t == "lens":
            state = attrs.get("state", {})
            for layer_id, layer in _lens_layers(attrs).items():
                view = names.get(f"indexpattern-datasource-layer-{layer_id}", {}).get("id")
                for column in layer.get("columns", {}).values():
                    add(view, column.get("sourceField", ""), "aggregate")
                for f in kql_fields(state.get("query", {}).get("query", "")):
                    add(view, f, "query")
        elif t == "map":
            views = [names.get(layer.get("sourceDescriptor", {}).get("indexPatternRefName", ""), {}).get("id")
                     for layer in json.loads(attrs.get("layerListJSON") or "[]")]
            map_state = json.loads(attrs.get("mapStateJSON") or "{}")
            for layer, view in zip(json.loads(attrs.get("layerListJSON") or "[]"), views, strict=True):
                src = layer.get("sourceDescriptor", {})
                if src.get("type") == "ES_GEO_GRID":
                    add(view, src.get("geoField"), "aggregate")
                    for metric in src.get("metrics", []):
                        add(view, metric.get("field", ""), "aggregate")
                elif src.get("type") == "ES_SEARCH":
                    add(view, src.get("geoField"), "query")   # filtered by the map's bounds
                    for f in src.get("tooltipProperties", []):
                        add(view, f, "display")
                for f in kql_fields(map_state.get("query", {}).get("query", "")):
                    add(view, f, "query")
    return uses


def view_indices(objects: list[dict[str, Any]]) -> dict[str, str]:
    """Data view id → the index pattern (title) it reads."""
    return {o["id"]: o["attributes"]["title"] for o in objects if o["type"] == "index-pattern"}


def field_problems(uses: list[FieldUse], caps_by_view: dict[str, dict[str, Any]]) -> list[str]:
    """`caps_by_view`: data view id → the `fields` part of `_field_caps` for its index."""
    problems = []
    for use in uses:
        caps = caps_by_view.get(use.view_id, {}).get(use.field)
        where = f"{use.object_type}/{use.object_id}"
        if not caps:
            problems.append(f"{where}: field {use.field} ({use.purpose}) is not in the mapping of {use.view_id}")
            continue
        types = {t: c for t, c in caps.items() if t != "unmapped"}
        if use.purpose in _NEEDS_DOC_VALUES and not all(c.get("aggregatable") for c in types.values()):
            problems.append(f"{where}: field {use.field} is used to {use.purpose} but is not aggregatable "
                            f"({', '.join(types)})")
        if use.purpose == "time" and set(types) - {"date", "date_nanos"}:
            problems.append(f"{where}: time field {use.field} is {', '.join(types)}, not a date")
        if use.purpose == "query" and not all(c.get("searchable") for c in types.values()):
            problems.append(f"{where}: field {use.field} is queried but not searchable")
    return problems


def with_namespace(objects: list[dict[str, Any]], settings: Settings) -> list[dict[str, Any]]:
    """The objects for a namespaced deployment: data views read `settings.index(...)`, and ids and
    titles carry the namespace so two namespaces can share one Kibana."""
    if not settings.namespace:
        return objects
    ns = settings.namespace
    out = []
    for obj in json.loads(json.dumps(objects)):
        obj["id"] = f"{ns}-{obj['id']}"
        for ref in obj.get("references", []):
            ref["id"] = f"{ns}-{ref['id']}"
        attrs = obj["attributes"]
        if obj["type"] == "index-pattern":
            attrs["title"] = settings.index(attrs["title"])
        if attrs.get("name"):
            attrs["name"] = f"[{ns}] {attrs['name']}"
        elif attrs.get("title") and obj["type"] != "index-pattern":
            attrs["title"] = f"[{ns}] {attrs['title']}"
        out.append(obj)
    return out
