"""The Kibana saved objects analysts start from, built here and written to `newsmon.ndjson`.

    python -m search.kibana.objects > search/kibana/newsmon.ndjson

Objects (Kibana 8.19, the version in deploy/docker-compose.yml):
- data views `newsmon-articles` (time field @timestamp, url shown as a link, Chinese field labels)
  and `newsmon-campaigns` (time field first_seen; the index the alerter fills);
- saved searches: every 基层减负 story, one per measure, the largest figures, the latest campaigns;
- Lens charts: stories over time, by measure, by province, top outlets; a map of story locations;
- the dashboard "基层减负 monitor" that lays them out.
The objects are written by hand-readable code rather than exported from a Kibana UI so they can
be reviewed and checked: `search.kibana.checks` verifies that every field they use exists in the
real index mapping and can be aggregated where it is aggregated.

Versions: `coreMigrationVersion`/`typeMigrationVersion` say which format each object is in;
Kibana migrates older formats forward on import, so each object states the oldest 8.x format it
is written in (the map uses the same layer format as Kibana's own sample data).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from newsmon.schemas import MEASURE_LABELS_ZH, MEASURES
from newsmon.settings import INDEX_ARTICLES, INDEX_CAMPAIGNS

CORE_MIGRATION_VERSION = "8.8.0"
TYPE_VERSIONS = {"index-pattern": "8.0.0", "search": "8.0.0", "lens": "8.9.0", "map": "7.4.0",
                 "dashboard": "8.9.0"}
PANEL_VERSION = "8.8.0"

ARTICLES_VIEW = "newsmon-articles"
CAMPAIGNS_VIEW = "newsmon-campaigns"
DASHBOARD_ID = "newsmon-dashboard"
DASHBOARD_TITLE = "基层减负 monitor"
RELEVANT = "relevant : true"

ARTICLE_LABELS = {
    "@timestamp": "日期", "title": "标题", "outlet": "媒体", "url": "链接", "relevant": "相关",
    "score": "相关度", "measures": "措施代码", "measure_labels": "减负措施", "regions.province": "省份",
    "regions.city": "城市", "regions.county": "区县", "regions.adcode": "行政区划代码",
    "lead_figure.what": "数字内容", "lead_figure.value": "数值", "lead_figure.unit": "单位",
    "policy_documents": "政策文件", "keywords": "关键词", "byline": "作者", "script": "原文字体",
}
CAMPAIGN_LABELS = {
    "title": "行动", "region_name": "地区", "summary": "摘要", "regions.province": "省份", "regions.city": "城市", "regions.county": "区县",
    "measure_labels": "减负措施", "story_count": "报道数", "outlet_count": "媒体数", "first_seen": "首次报道",
    "last_seen": "最近报道", "status": "状态",
}


def _so(type_: str, id_: str, attributes: dict[str, Any], references: list[dict[str, str]]) -> dict[str, Any]:
    return {"type": type_, "id": id_, "attributes": attributes, "references": references,
            "coreMigrationVersion": CORE_MIGRATION_VERSION, "typeMigrationVersion": TYPE_VERSIONS[type_],
            "managed": False}


def _ref(name: str, id_: str, type_: str = "index-pattern") -> dict[str, str]:
    return {"name": name, "type": type_, "id": id_}


# ------------------------------------------------------------------------------------ data views
def data_view(id_: str, title: str, name: str, time_field: str, labels: dict[str, str],
              formats: dict[str, Any]) -> dict[str, Any]:
    return _so("index-pattern", id_, {
        "title": title,
        "name": name,
        "timeFieldName": time_field,
        "fieldFormatMap": json.dumps(formats, ensure_ascii=False),
        "fieldAttrs": json.dumps({f: {"customLabel": label} for f, label in labels.items()}, ensure_ascii=False),
        "sourceFilters": "[]",
        "runtimeFieldMap": "{}",
        "allowNoIndex": True,
    }, [])


# ------------------------------------------------------------------------------------ saved searches
def saved_search(id_: str, title: str, description: str, view: str, query: str, columns: list[str],
                 sort: list[list[str]]) -> dict[str, Any]:
    source = {"query": {"query": query, "language": "kuery"}, "filter": [],
              "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index"}
    return _so("search", id_, {
        "title": title,
        "description": description,
        "columns": columns,
        "sort": sort,
        "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(source, ensure_ascii=False)},
    }, [_ref("kibanaSavedObjectMeta.searchSourceJSON.index", view)])


STORY_COLUMNS = ["title", "outlet", "regions.province", "regions.city", "measure_labels", "url"]


def measure_search_id(measure: str) -> str:
    return f"newsmon-stories-{measure.replace('_', '-')}"


def saved_searches() -> list[dict[str, Any]]:
    hint = "中文词组请加引号检索，例如 \"微信工作群\"；繁体（減負）与简体（减负）均可。"
    out = [saved_search("newsmon-stories-relevant", "基层减负报道", f"所有基层减负报道。{hint}", ARTICLES_VIEW,
                        RELEVANT, STORY_COLUMNS, [["@timestamp", "desc"]])]
    for m in MEASURES:
        out.append(saved_search(measure_search_id(m), f"基层减负报道 · {MEASURE_LABELS_ZH[m]}",
                                f"措施 {m}（{MEASURE_LABELS_ZH[m]}）的基层减负报道。{hint}", ARTICLES_VIEW,
                                f'{RELEVANT} and measures : "{m}"', STORY_COLUMNS, [["@timestamp", "desc"]]))
    out.append(saved_search("newsmon-largest-figures", "最大的减负数字", "每篇报道中最大的数字（如取消的工作群数），从大到小。",
                            ARTICLES_VIEW, f"{RELEVANT} and lead_figure.value : *",
                            ["lead_figure.value", "lead_figure.unit", "lead_figure.what", "regions.city", "title", "outlet"],
                            [["lead_figure.value", "desc"]]))
    out.append(saved_search("newsmon-latest-campaigns", "最新减负行动", "各地新出现的减负行动（告警模块汇总），按首次报道时间。",
                            CAMPAIGNS_VIEW, "",
                            ["title", "region_name", "measure_labels", "story_count", "outlet_count",
                             "last_seen"],
                            [["first_seen", "desc"]]))
    return out


# ------------------------------------------------------------------------------------ Lens
def _count_column(label: str) -> dict[str, Any]:
    return {"label": label, "dataType": "number", "operationType": "count", "isBucketed": False, "scale": "ratio",
            "sourceField": "___records___", "params": {"emptyAsNull": True}, "customLabel": True}


def _terms_column(field: str, label: str, size: int, order_by: str) -> dict[str, Any]:
    return {"label": label, "dataType": "string", "operationType": "terms", "scale": "ordinal", "sourceField": field,
            "isBucketed": True, "customLabel": True,
            "params": {"size": size, "orderBy": {"type": "column", "columnId": order_by}, "orderDirection": "desc",
                       "otherBucket": False, "missingBucket": False}}


def _date_column(field: str, label: str) -> dict[str, Any]:
    return {"label": label, "dataType": "date", "operationType": "date_histogram", "sourceField": field,
            "isBucketed": True, "scale": "interval", "customLabel": True,
            "params": {"interval": "auto", "includeEmptyRows": True, "dropPartials": False}}


def lens_xy(id_: str, title: str, x_column: dict[str, Any], count_label: str, series: str,
            query: str = RELEVANT) -> dict[str, Any]:
    layer = "layer-1"
    columns = {"x": x_column, "count": _count_column(count_label)}
    state = {
        "datasourceStates": {"formBased": {"layers": {layer: {
            "columns": columns, "columnOrder": ["x", "count"], "incompleteColumns": {}, "sampling": 1}}}},
        "visualization": {
            "legend": {"isVisible": False, "position": "right"},
            "valueLabels": "show" if series == "bar_horizontal" else "hide",
            "preferredSeriesType": series,
            "layers": [{"layerId": layer, "layerType": "data", "seriesType": series, "xAccessor": "x",
                        "accessors": ["count"]}],
        },
        "query": {"query": query, "language": "kuery"},
        "filters": [],
        "internalReferences": [],
        "adHocDataViews": {},
    }
    return _so("lens", id_, {"title": title, "description": "", "visualizationType": "lnsXY", "state": state}, [
        _ref("indexpattern-datasource-current-indexpattern", ARTICLES_VIEW),
        _ref(f"indexpattern-datasource-layer-{layer}", ARTICLES_VIEW),
    ])


def lens_charts() -> list[dict[str, Any]]:
    return [
        lens_xy("newsmon-lens-stories-over-time", "基层减负报道数量", _date_column("@timestamp", "日期"), "报道数",
                "bar_stacked"),
        lens_xy("newsmon-lens-by-measure", "按减负措施", _terms_column("measure_labels", "减负措施", len(MEASURES), "count"),
                "报道数", "bar_horizontal"),
        lens_xy("newsmon-lens-by-province", "按省份", _terms_column("regions.province", "省份", 15, "count"),
                "报道数", "bar_horizontal"),
        lens_xy("newsmon-lens-top-outlets", "报道最多的媒体", _terms_column("outlet", "媒体", 10, "count"),
                "报道数", "bar_horizontal"),
    ]


# ------------------------------------------------------------------------------------ map
def _static(prop: str, value: Any) -> dict[str, Any]:
    return {"type": "STATIC", "options": {prop: value}}


def story_map() -> dict[str, Any]:
    layers = [
        {"id": "basemap", "label": None, "minZoom": 0, "maxZoom": 24, "alpha": 1, "visible": True,
         "sourceDescriptor": {"type": "EMS_TMS", "isAutoSelect": True, "lightModeDefault": "road_map_desaturated"},
         "style": {}, "type": "VECTOR_TILE"},
        {"id": "stories-grid", "label": "报道数（按地区聚合）", "minZoom": 0, "maxZoom": 7, "alpha": 0.8, "visible": True,
         "sourceDescriptor": {"type": "ES_GEO_GRID", "id": "stories-grid-source", "geoField": "regions.location",
                              "requestType": "point", "resolution": "COARSE",
                              "metrics": [{"type": "count", "label": "报道数"}],
                              "indexPatternRefName": "layer_1_source_index_pattern"},
         "style": {"type": "VECTOR", "properties": {
             "fillColor": {"type": "DYNAMIC", "options": {"field": {"name": "doc_count", "origin": "source"},
                                                          "color": "Blues"}},
             "lineColor": _static("color", "#FFFFFF"),
             "lineWidth": _static("size", 1),
             "iconSize": {"type": "DYNAMIC", "options": {"field": {"name": "doc_count", "origin": "source"},
                                                         "minSize": 6, "maxSize": 28}},
             "labelText": {"type": "DYNAMIC", "options": {"field": {"name": "doc_count", "origin": "source"}}}}},
         "type": "VECTOR"},
        {"id": "stories", "label": "报道", "minZoom": 7, "maxZoom": 24, "alpha": 1, "visible": True,
         "sourceDescriptor": {"type": "ES_SEARCH", "id": "stories-source", "geoField": "regions.location",
                              "limit": 2048, "filterByMapBounds": True,
                              "tooltipProperties": ["title", "outlet", "regions.city", "regions.county",
                                                    "measure_labels", "@timestamp"],
                              "indexPatternRefName": "layer_2_source_index_pattern"},
         "style": {"type": "VECTOR", "properties": {
             "fillColor": _static("color", "#D36086"), "lineColor": _static("color", "#FFFFFF"),
             "lineWidth": _static("size", 1), "iconSize": _static("size", 8)}},
         "type": "VECTOR"},
    ]
    map_state = {"zoom": 3.4, "center": {"lon": 105.0, "lat": 35.0}, "timeFilters": {"from": "now-1y", "to": "now"},
                 "refreshConfig": {"isPaused": True, "interval": 0}, "query": {"query": RELEVANT, "language": "kuery"},
                 "filters": [], "settings": {}}
    return _so("map", "newsmon-map-stories", {
        "title": "基层减负报道地区分布",
        "description": "报道所述行政区的位置（省、市、区县中心点）。",
        "mapStateJSON": json.dumps(map_state, ensure_ascii=False),
        "layerListJSON": json.dumps(layers, ensure_ascii=False),
        "uiStateJSON": json.dumps({"isLayerTOCOpen": True, "openTOCDetails": []}),
    }, [_ref("layer_1_source_index_pattern", ARTICLES_VIEW), _ref("layer_2_source_index_pattern", ARTICLES_VIEW)])


# ------------------------------------------------------------------------------------ dashboard
def dashboard(panels: list[tuple[str, str, int, int, int, int, dict[str, Any]]]) -> dict[str, Any]:
    """panels: (saved object type, id, x, y, w, h, extra embeddableConfig) on Kibana's 48-column grid."""
    panels_json, references = [], []
    for n, (type_, id_, x, y, w, h, extra) in enumerate(panels, start=1):
        index = f"p{n}"
        panels_json.append({"version": PANEL_VERSION, "type": type_, "panelIndex": index,
                            "gridData": {"x": x, "y": y, "w": w, "h": h, "i": index},
                            "embeddableConfig": {"enhancements": {}, **extra}, "panelRefName": f"panel_{index}"})
        references.append(_ref(f"{index}:panel_{index}", id_, type_))
    return _so("dashboard", DASHBOARD_ID, {
        "title": DASHBOARD_TITLE,
        "description": "各地为基层减负：报道数量、地区分布、措施、媒体、最大的数字和最新的行动。",
        "panelsJSON": json.dumps(panels_json, ensure_ascii=False),
        "optionsJSON": json.dumps({"useMargins": True, "syncColors": False, "syncCursor": True,
                                   "syncTooltips": False, "hidePanelTitles": False}),
        "timeRestore": True, "timeFrom": "now-1y", "timeTo": "now",
        "refreshInterval": {"pause": False, "value": 60_000},
        "version": 1,
        "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(
            {"query": {"query": "", "language": "kuery"}, "filter": []})},
    }, references)


def build_objects() -> list[dict[str, Any]]:
    """Every saved object, dependencies first (Kibana resolves references within one import)."""
    views = [
        data_view(ARTICLES_VIEW, INDEX_ARTICLES, "新闻报道 (newsmon-articles)", "@timestamp", ARTICLE_LABELS, {
            "url": {"id": "url", "params": {"type": "a", "urlTemplate": "", "labelTemplate": "",
                                            "openLinkInCurrentTab": False}},
            "score": {"id": "percent", "params": {}},
        }),
        data_view(CAMPAIGNS_VIEW, INDEX_CAMPAIGNS, "减负行动 (newsmon-campaigns)", "first_seen", CAMPAIGN_LABELS, {}),
    ]
    searches = saved_searches()
    charts = lens_charts()
    the_map = story_map()
    board = dashboard([
        ("lens", "newsmon-lens-stories-over-time", 0, 0, 32, 12, {}),
        ("lens", "newsmon-lens-by-measure", 32, 0, 16, 12, {}),
        ("map", the_map["id"], 0, 12, 24, 20,
         {"mapCenter": {"lat": 35.0, "lon": 105.0, "zoom": 3.4}, "isLayerTOCOpen": False, "hiddenLayers": []}),
        ("lens", "newsmon-lens-by-province", 24, 12, 12, 20, {}),
        ("lens", "newsmon-lens-top-outlets", 36, 12, 12, 20, {}),
        ("search", "newsmon-largest-figures", 0, 32, 24, 16, {}),
        ("search", "newsmon-latest-campaigns", 24, 32, 24, 16, {}),
    ])
    return [*views, *searches, *charts, the_map, board]


def to_ndjson(objects: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(o, ensure_ascii=False, sort_keys=True) + "\n" for o in objects)


if __name__ == "__main__":
    sys.stdout.write(to_ndjson(build_objects()))
