"""`newsmon search`: find stories from a terminal, with the filters analysts use in Kibana."""

from __future__ import annotations

import json

import typer
from rich.columns import Columns
from rich.markup import escape
from rich.table import Table

from newsmon.cli import CliError
from newsmon.cli._common import console, settings
from newsmon.es import make_es
from newsmon.gazetteer import UnknownRegion, resolve_region
from newsmon.schemas import MEASURE_LABELS_ZH, MEASURES
from newsmon.settings import INDEX_ARTICLES
from search.errors import elasticsearch_errors
from search.query import (
    HIGHLIGHT_POST,
    HIGHLIGHT_PRE,
    QueryError,
    SearchRequest,
    SearchResult,
    measure_label,
    parse_day,
    search_stories,
)

_MEASURE_BY_LABEL = {label: code for code, label in MEASURE_LABELS_ZH.items()}


def _measure(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip()
    if v in MEASURES:
        return v
    if v in _MEASURE_BY_LABEL:
        return _MEASURE_BY_LABEL[v]
    raise CliError(f"unknown measure {value!r}; use one of: {', '.join(MEASURES)}")


def search(
    query: str = typer.Argument("", help="Words to find; quotes keep a phrase, OR for either, -word to exclude. "
                                          "Simplified or Traditional."),
    region: str | None = typer.Option(None, "--region", "-r",
                                      help="Province, city or county by name or adcode: 辽宁省, 铁岭市, 211200."),
    measure: str | None = typer.Option(None, "--measure", "-m",
                                       help=f"Measure code or label: {', '.join(MEASURES)}."),
    since: str | None = typer.Option(None, help="From this day (YYYY-MM-DD, YYYY-MM or YYYY), Beijing time."),
    until: str | None = typer.Option(None, help="Through this day (YYYY-MM-DD, YYYY-MM or YYYY)."),
    source: str | None = typer.Option(None, "--source", help="Only stories from this source id."),
    all_stories: bool = typer.Option(False, "--all-stories",
                                     help="Include stories the classifier judged not about 基层减负."),
    words: bool = typer.Option(False, "--words",
                               help="Match exact jieba words (工作群 will not match inside 微信工作群)."),
    sort: str = typer.Option("auto", help="auto (relevance with a query, else newest first), relevance or date."),
    limit: int = typer.Option(20, "--limit", "-n", min=0, max=1000, help="Stories to show."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (hits, total, facets) for scripts."),
) -> None:
    """Search indexed stories (relevant 基层减负 stories by default) with highlighted snippets, the total and facets.

    Results come best match first (newest first without words), each with date, region, outlet,
    title and a snippet; below them the facets by province, measure and month.

    Examples:
      newsmon search 微信工作群 --region 辽宁省
      newsmon search 減負 --since 2019-01-01 --until 2019-12-31
      newsmon search '"指尖上的形式主义" -教师' --measure work_groups --json
    """
    s = settings()
    if sort not in ("auto", "relevance", "date"):
        raise CliError(f"--sort must be auto, relevance or date, not {sort!r}")
    try:
        division = resolve_region(region) if region else None
        request = SearchRequest(
            query=query, region=division, measure=_measure(measure),
            since=parse_day(since, option="--since"), until=parse_day(until, end=True, option="--until"),
            source_id=source, all_stories=all_stories, words=words, limit=limit, sort=sort)  # type: ignore[arg-type]
    except (UnknownRegion, QueryError) as exc:
        raise CliError(str(exc)) from None
    with elasticsearch_errors(s, CliError):
        es = make_es(s)
        try:
            result = search_stories(es, s.index(INDEX_ARTICLES), request)
        except QueryError as exc:
            raise CliError(str(exc)) from None
        finally:
            es.close()
    if as_json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return
    _print(result, request)


def _styled(text: str) -> str:
    text = " ".join(text.split())  # paragraph breaks inside a fragment would waste table rows
    return escape(text).replace(HIGHLIGHT_PRE, "[bold yellow]").replace(HIGHLIGHT_POST, "[/]")


def _print(result: SearchResult, request: SearchRequest) -> None:
    what = "stories" if request.all_stories else "relevant stories"
    if result.hits:
        table = Table(show_lines=True, expand=True)
        table.add_column("date", no_wrap=True)
        table.add_column("region", max_width=14)
        table.add_column("outlet", max_width=12)
        table.add_column("title", ratio=2)
        table.add_column("snippet", ratio=3)
        for h in result.hits:
            title = _styled(h.title_highlighted) + ("" if h.relevant else " [dim](not relevant)[/]")
            table.add_row(h.date or "", escape(h.region_label), escape(h.outlet or ""), title, _styled(h.snippet))
        console.print(table)
    console.print(f"{result.total} {what} match; showing {len(result.hits)} ({result.took_ms} ms in Elasticsearch)")
    if result.total:
        console.print(Columns([
            _facet("province", result.facets["province"]),
            _facet("measure", [(measure_label(k), n) for k, n in result.facets["measure"]]),
            _facet("month", result.facets["month"][-12:]),
        ]))


def _facet(title: str, buckets: list[tuple[str, int]]) -> Table:
    table = Table(title=f"by {title}", show_header=False, box=None, title_justify="left")
    table.add_column(title)
    table.add_column("stories", justify="right")
    for key, count in buckets:
        table.add_row(escape(str(key)), str(count))
    return table


def register(app: typer.Typer) -> None:
    app.command("search")(search)
