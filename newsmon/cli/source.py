"""`newsmon source add|list|show|edit|enable|disable|remove|test|import|export`: the source registry."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import typer
from rich.table import Table

from crawler.registry import SourceRegistry
from crawler.source import (
    SOURCE_TYPES,
    Source,
    SourceError,
    check_http_url,
    dump_sources_yaml,
    load_sources_yaml,
    parse_source,
)
from newsmon.cli import CliError
from newsmon.cli._common import console, err_console, parse_date, settings

source_app = typer.Typer(
    help="Manage the news sources the crawler follows (stored in Elasticsearch, shared by every host).\n\n"
    "Example: newsmon source add lnrb-epaper --name 辽宁日报电子版 --outlet 辽宁日报 --region 辽宁省 "
    "--type epaper --url 'https://epaper.lnd.com.cn/lnrbepaper/pc/layout/{date:%Y%m}/{date:%d}/node_01.html'",
    no_args_is_help=True,
)


def _registry() -> SourceRegistry:
    from elastic_transport import ConnectionError as EsConnectionError

    s = settings()
    registry = SourceRegistry(s)
    try:
        registry.ensure_index()
    except EsConnectionError:
        raise CliError(f"cannot reach Elasticsearch at {s.es_url_shown} (start it with: newsmon stack up)") from None
    return registry


def _rules(allow, deny, css, xpath) -> dict:
    return {k: v for k, v in {"allow": allow, "deny": deny, "css": css, "xpath": xpath}.items() if v}


def _fields(*, name=None, outlet=None, region=None, type_=None, urls=None, domains=None, allow=None, deny=None,
            css=None, xpath=None, follow_allow=None, follow_deny=None, follow_css=None, body_xpath=None,
            title_xpath=None, encoding=None, interval=None, max_pages=None, epaper_days=None,
            refresh_after=None, notes=None) -> dict:
    """Option values -> source fields; options not given are left out (so `edit` keeps them)."""
    doc: dict = {}
    for key, value in (("name", name), ("outlet", outlet), ("region", region), ("type", type_),
                       ("start_urls", urls), ("allowed_domains", domains), ("encoding", encoding),
                       ("interval", interval), ("max_pages", max_pages), ("epaper_days", epaper_days),
                       ("refresh_after", refresh_after), ("notes", notes)):
        if value not in (None, []):
            doc[key] = value
    articles = _rules(allow, deny, css, xpath)
    follow = _rules(follow_allow, follow_deny, follow_css, None)
    if articles or follow:
        doc["link_rules"] = {k: v for k, v in (("articles", articles), ("follow", follow)) if v}
    hints = {k: v for k, v in (("body_xpath", body_xpath), ("title_xpath", title_xpath)) if v}
    if hints:
        doc["extraction_hints"] = hints
    return doc


# Options shared by add and edit (typer needs them spelled out per command).
_URL = typer.Option(None, "--url", "-u", help="Start URL (repeat). For epaper a template: {date:%Y%m%d} etc.")
_DOMAIN = typer.Option(None, "--domain", help="Allowed domain (repeat); default: the start URLs' hosts.")
_ALLOW = typer.Option(None, "--allow", help="Regex an article link must match (repeat).")
_DENY = typer.Option(None, "--deny", help="Regex that excludes an article link (repeat).")
_CSS = typer.Option(None, "--css", help="Only article links inside these CSS regions (repeat).")
_XPATH = typer.Option(None, "--xpath", help="Only article links inside these XPath regions (repeat).")
_FALLOW = typer.Option(None, "--follow-allow", help="Regex for navigation links to follow: pagination, e-paper pages.")
_FDENY = typer.Option(None, "--follow-deny", help="Regex for navigation links not to follow.")
_FCSS = typer.Option(None, "--follow-css", help="Only follow navigation links inside these CSS regions.")


@source_app.command()
def add(
    source_id: str = typer.Argument(..., metavar="ID", help="Slug: lower-case letters, digits and '-'."),
    name: str = typer.Option(..., "--name", help="Display name, e.g. 辽宁日报电子版."),
    outlet: str = typer.Option(..., "--outlet", help="Publishing outlet, e.g. 辽宁日报."),
    region: str = typer.Option(..., "--region", help="Home region: name (辽宁省, 铁岭市) or adcode."),
    type_: str = typer.Option("listing", "--type", "-t", help=f"One of {', '.join(SOURCE_TYPES)}."),
    urls: list[str] = _URL,
    domains: list[str] = _DOMAIN,
    allow: list[str] = _ALLOW,
    deny: list[str] = _DENY,
    css: list[str] = _CSS,
    xpath: list[str] = _XPATH,
    follow_allow: list[str] = _FALLOW,
    follow_deny: list[str] = _FDENY,
    follow_css: list[str] = _FCSS,
    body_xpath: str | None = typer.Option(None, "--body-xpath", help="Extraction hint: the article body."),
    title_xpath: str | None = typer.Option(None, "--title-xpath", help="Extraction hint: the title."),
    encoding: str | None = typer.Option(None, "--encoding", help="Charset override (e.g. gb18030)."),
    interval: str = typer.Option("30m", "--interval", help="Time between crawls: 90s, 15m, 2h, 1d."),
    max_pages: int | None = typer.Option(None, "--max-pages", help="Navigation pages per crawl (default 50)."),
    epaper_days: int | None = typer.Option(None, "--epaper-days", help="E-paper editions back from today."),
    refresh_after: str | None = typer.Option(None, "--refresh-after", help="Re-fetch published articles after this long."),
    disabled: bool = typer.Option(False, "--disabled", help="Register without crawling yet."),
    notes: str | None = typer.Option(None, "--notes", help="Free text."),
) -> None:
    """Register a source after validating it (http/https URLs, unique id, regexes, region).

    Example: newsmon source add xmrb --name 厦门日报 --outlet 厦门日报 --region 厦门市 --type listing
    --url https://www.xmnn.cn/xmrb/ --allow '/content/\\d+' --follow-allow 'index_\\d+\\.html'
    """
    if not urls:
        raise CliError("give at least one --url")
    doc = {"id": source_id, **_fields(name=name, outlet=outlet, region=region, type_=type_, urls=urls, domains=domains,
                                      allow=allow, deny=deny, css=css, xpath=xpath, follow_allow=follow_allow,
                                      follow_deny=follow_deny, follow_css=follow_css, body_xpath=body_xpath,
                                      title_xpath=title_xpath, encoding=encoding, interval=interval,
                                      max_pages=max_pages, epaper_days=epaper_days, refresh_after=refresh_after,
                                      notes=notes), "enabled": not disabled}
    try:
        source = parse_source(doc)
        _registry().add(source)
    except SourceError as exc:
        raise CliError(str(exc)) from None
    console.print(f"added source [bold]{source.id}[/] ({source.type}, {len(source.start_urls)} start URL(s))")


@source_app.command()
def edit(
    source_id: str = typer.Argument(..., metavar="ID"),
    name: str | None = typer.Option(None, "--name"),
    outlet: str | None = typer.Option(None, "--outlet"),
    region: str | None = typer.Option(None, "--region"),
    type_: str | None = typer.Option(None, "--type", "-t"),
    urls: list[str] = _URL,
    domains: list[str] = _DOMAIN,
    allow: list[str] = _ALLOW,
    deny: list[str] = _DENY,
    css: list[str] = _CSS,
    xpath: list[str] = _XPATH,
    follow_allow: list[str] = _FALLOW,
    follow_deny: list[str] = _FDENY,
    follow_css: list[str] = _FCSS,
    body_xpath: str | None = typer.Option(None, "--body-xpath"),
    title_xpath: str | None = typer.Option(None, "--title-xpath"),
    encoding: str | None = typer.Option(None, "--encoding"),
    interval: str | None = typer.Option(None, "--interval"),
    max_pages: int | None = typer.Option(None, "--max-pages"),
    epaper_days: int | None = typer.Option(None, "--epaper-days"),
    refresh_after: str | None = typer.Option(None, "--refresh-after"),
    notes: str | None = typer.Option(None, "--notes"),
) -> None:
    """Change fields of a source; options given replace the stored value (lists are replaced whole).

    Example: newsmon source edit xmrb --interval 15m --deny '/video/'
    """
    changes = _fields(name=name, outlet=outlet, region=region, type_=type_, urls=urls, domains=domains, allow=allow,
                      deny=deny, css=css, xpath=xpath, follow_allow=follow_allow, follow_deny=follow_deny,
                      follow_css=follow_css, body_xpath=body_xpath, title_xpath=title_xpath, encoding=encoding,
                      interval=interval, max_pages=max_pages, epaper_days=epaper_days, refresh_after=refresh_after,
                      notes=notes)
    if not changes:
        raise CliError("nothing to change: give at least one option (see --help)")
    registry = _registry()
    try:
        if "link_rules" in changes:  # merge: --allow alone keeps the follow rule
            current = registry.get(source_id).link_rules.model_dump()
            for part, rule in changes["link_rules"].items():
                current[part] = current[part] | rule
            changes["link_rules"] = current
        source = registry.update(source_id, changes)
    except SourceError as exc:
        raise CliError(str(exc)) from None
    console.print(f"updated source [bold]{source.id}[/]: {', '.join(sorted(changes))}")


def _set_enabled(ids: list[str], enabled: bool) -> None:
    registry = _registry()
    try:
        for sid in ids:
            registry.update(sid, {"enabled": enabled})
            console.print(f"{'enabled' if enabled else 'disabled'} {sid}")
    except SourceError as exc:
        raise CliError(str(exc)) from None


@source_app.command()
def enable(ids: list[str] = typer.Argument(..., metavar="ID...")) -> None:
    """Crawl these sources again.

    Example: newsmon source enable xmrb lnrb-epaper
    """
    _set_enabled(ids, True)


@source_app.command()
def disable(ids: list[str] = typer.Argument(..., metavar="ID...")) -> None:
    """Stop crawling these sources (they stay registered, with their crawl state).

    Example: newsmon source disable xmrb
    """
    _set_enabled(ids, False)


@source_app.command()
def remove(ids: list[str] = typer.Argument(..., metavar="ID...")) -> None:
    """Delete sources from the registry (published articles and crawl state are kept).

    Example: newsmon source remove xmrb
    """
    registry = _registry()
    try:
        for sid in ids:
            registry.remove(sid)
            console.print(f"removed {sid}")
    except SourceError as exc:
        raise CliError(str(exc)) from None


@source_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON."),
          enabled_only: bool = typer.Option(False, "--enabled", help="Only enabled sources.")) -> None:
    """Show every source with its last crawl status and the number of articles published.

    Example: newsmon source list --enabled
    """
    from crawler.state import CrawlState

    registry = _registry()
    sources = registry.all(enabled_only=enabled_only)
    counts = CrawlState(registry.settings, registry.es).counts_by_source()
    if as_json:
        out = [s.to_document() | {"articles": counts.get(s.id, 0)} for s in sources]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(sources)} sources")
    for col in ("id", "type", "outlet", "region", "on", "every", "last crawl", "pages", "new", "errors", "articles"):
        table.add_column(col, justify="right" if col in ("pages", "new", "errors", "articles") else "left")
    for s in sources:
        lc = s.last_crawl
        status = "-"
        if lc:
            colour = {"ok": "green", "partial": "yellow", "failed": "red"}[lc.status]
            when = lc.finished_at.strftime("%m-%d %H:%M") if lc.finished_at else ""
            status = f"[{colour}]{lc.status}[/] {when}"
        region = s.region.county or s.region.city or s.region.province if s.region else "-"
        table.add_row(s.id + ("" if s.verified else " [dim](unverified)[/]"), s.type, s.outlet, region or "-",
                      "yes" if s.enabled else "[dim]no[/]", _fmt_interval(s.interval), status,
                      str(lc.pages) if lc else "-", str(lc.published) if lc else "-",
                      str(lc.errors) if lc else "-", str(counts.get(s.id, 0)))
    console.print(table)


def _fmt_interval(seconds: int) -> str:
    from crawler.source import format_duration

    return format_duration(seconds)


@source_app.command()
def show(source_id: str = typer.Argument(..., metavar="ID"),
         as_json: bool = typer.Option(False, "--json", help="Print JSON instead of YAML.")) -> None:
    """Print one source, with its last crawl result.

    Example: newsmon source show lnrb-epaper
    """
    try:
        source = _registry().get(source_id)
    except SourceError as exc:
        raise CliError(str(exc)) from None
    if as_json:
        print(json.dumps(source.to_document(), ensure_ascii=False, indent=2))
    else:
        print(dump_sources_yaml([source], with_state=True), end="")


@source_app.command("import")
def import_(file: Path = typer.Argument(..., metavar="FILE", help="YAML file; '-' reads stdin."),
            update: bool = typer.Option(False, "--update", help="Replace sources that already exist."),
            dry_run: bool = typer.Option(False, "--dry-run", help="Validate only.")) -> None:
    """Add sources from a YAML file (a list, or a mapping with `sources:`); all are validated first.

    Example: newsmon source import crawler/sources/default.yaml
    """
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror}") from None
    try:
        sources = load_sources_yaml(text)
    except SourceError as exc:
        raise CliError(f"{file}: {exc}") from None
    if dry_run:
        console.print(f"{len(sources)} sources valid")
        return
    registry = _registry()
    existing = [s.id for s in sources if registry.exists(s.id)]
    if existing and not update:
        raise CliError(f"already registered: {', '.join(existing)} (use --update to replace them)")
    for s in sources:
        registry.put(s)
    console.print(f"imported {len(sources)} sources ({len(sources) - len(existing)} new, {len(existing)} updated)")


@source_app.command()
def export(file: Path | None = typer.Argument(None, metavar="[FILE]", help="Output file; default stdout."),
           ids: list[str] = typer.Option(None, "--id", help="Only these sources (repeat)."),
           with_state: bool = typer.Option(False, "--with-state", help="Include the last crawl result.")) -> None:
    """Write sources as YAML that `newsmon source import` reads back.

    Example: newsmon source export sources.yaml
    """
    registry = _registry()
    try:
        sources = registry.many(ids) if ids else registry.all()
    except SourceError as exc:
        raise CliError(str(exc)) from None
    text = dump_sources_yaml(sources, with_state=with_state)
    if file is None or str(file) == "-":
        print(text, end="")
    else:
        try:
            file.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {file}: {exc.strerror}") from None
        err_console.print(f"exported {len(sources)} sources to {file}")


def _adhoc_source(url: str, type_: str | None) -> Source:
    """A throw-away source for `source test URL`: every link on the site counts as an article."""
    try:
        check_http_url(url)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    path = urlsplit(url).path.lower()
    guessed = type_ or ("sitemap" if path.endswith(("robots.txt", ".xml.gz")) or "sitemap" in path else
                        "rss" if path.endswith((".xml", ".rss", ".atom")) or "rss" in path or "feed" in path else
                        "listing")
    if guessed not in SOURCE_TYPES:
        raise CliError(f"--type must be one of {', '.join(SOURCE_TYPES)}")
    host = urlsplit(url).hostname or "site"
    try:
        return Source.model_validate({"id": "adhoc-test", "name": url, "outlet": host, "type": guessed,
                                      "start_urls": [url]})
    except Exception as exc:
        raise CliError(f"cannot test {url}: {' '.join(str(exc).split())[:200]}") from None


@source_app.command()
def test(
    target: str = typer.Argument(..., metavar="ID|URL", help="A registered source, or a page URL to try."),
    type_: str | None = typer.Option(None, "--type", "-t", help="Source type for a URL (default: guessed)."),
    day: str | None = typer.Option(None, "--date", help="Edition date for an e-paper (YYYY-MM-DD)."),
    show_ignored: bool = typer.Option(False, "--ignored", help="Also list links no rule took."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines, one per link."),
) -> None:
    """Fetch the start page(s) and show which links the rules take as articles; publishes nothing.

    Example: newsmon source test lnrb-epaper --date 2025-03-12
    """
    from crawler.runner import run_crawl

    if target.startswith(("http://", "https://", "ftp://", "file:")) or "://" in target:
        source = _adhoc_source(target, type_)
    else:
        try:
            source = _registry().get(target)
        except SourceError as exc:
            raise CliError(str(exc)) from None
    today = parse_date(day)
    s = settings()
    if source.type == "epaper":  # one edition is enough to judge the rules
        source = source.model_copy(update={"epaper_days": 1})
    run = run_crawl(s, [source], today=today, dry_run=True, timeout=max(120.0, s.crawl_timeout * 4))
    outcome = run.outcomes[source.id]
    links = [ln for ln in run.links if show_ignored or ln["verdict"] != "ignored"]
    if as_json:
        for ln in run.links:
            print(json.dumps({k: ln[k] for k in ("page", "url", "verdict", "reason", "seen")}, ensure_ascii=False))
    else:
        table = Table(title=f"{source.id}: links on {len(source.start_pages(today or date.today(), 1))} start page(s)")
        for col in ("verdict", "url", "note"):
            table.add_column(col, overflow="fold")
        for ln in links:
            note = ln["reason"] or ("already published" if ln.get("seen") else "")
            colour = {"article": "green", "follow": "cyan", "ignored": "dim"}[ln["verdict"]]
            table.add_row(f"[{colour}]{ln['verdict']}[/]", ln["url"], note)
        console.print(table)
    if outcome.pages == 0:
        reason = "; ".join(outcome.error_samples[:2]) or run.fatal or "no page could be fetched"
        if outcome.robots_blocked:
            reason = "start page disallowed by robots.txt"
        raise CliError(f"{source.id}: {reason}")
    n = {v: sum(1 for ln in run.links if ln["verdict"] == v) for v in ("article", "follow", "ignored")}
    err_console.print(f"{n['article']} article links, {n['follow']} to follow, {n['ignored']} ignored; "
                      f"pages fetched {outcome.pages}, errors {outcome.errors}")




def register(app: typer.Typer) -> None:
    app.add_typer(source_app, name="source")
