"""`newsmon status`: what the running service is doing, from Kafka, Elasticsearch and SMTP."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from newsmon.cli._common import console, settings
from newsmon.status import Status, collect_status


def lag_table(status: Status, title: str = "pipeline") -> Table:
    table = Table(title=title)
    for col in ("stage", "consumer group", "topic", "lag", "committed / end"):
        table.add_column(col, justify="right" if col in ("lag", "committed / end") else "left")
    for g in status.lags:
        lag = "-" if g.lag is None else (f"[yellow]{g.lag}[/]" if g.lag else "[green]0[/]")
        table.add_row(g.stage, g.group, g.topic, lag, f"{g.committed} / {g.end}")
    return table


def _health_table(status: Status) -> Table:
    table = Table(title="health")
    for col in ("service", "state", "detail"):
        table.add_column(col)
    for h in status.health:
        table.add_row(h.name, "[green]ok[/]" if h.ok else "[red]down[/]", h.detail)
    return table


def _counts_table(status: Status) -> Table:
    table = Table(title="counts")
    table.add_column("what")
    table.add_column("total", justify="right")
    table.add_column("last minute", justify="right")
    lm = status.last_minute
    rows = [
        ("crawl requests (scheduler)", status.topics.get("newsmon.crawl-requests"), lm.get("newsmon.crawl-requests")),
        ("raw pages (crawler)", status.topics.get("newsmon.raw-pages"), lm.get("newsmon.raw-pages")),
        ("stories (processor)", status.topics.get("newsmon.articles"), lm.get("newsmon.articles")),
        ("documents indexed", status.documents.get("all"), lm.get("indexed")),
        ("  of them 基层减负 (relevant)", status.documents.get("relevant"), None),
        ("campaigns", status.campaigns, None),
        ("dead letters", status.dead_letters, lm.get("newsmon.dead-letter")),
    ]
    for name in ("sent", "pending", "sending", "failed"):
        rows.append((f"alerts {name}", status.alerts.get(name, 0), lm.get("alerts_sent") if name == "sent" else None))
    for what, total, minute in rows:
        table.add_row(what, "-" if total is None else str(total), "" if minute is None else str(minute))
    return table


def _sources_table(status: Status) -> Table:
    table = Table(title="sources (last crawl)")
    for col in ("source", "enabled", "last crawl (UTC)", "result", "pages", "published", "errors", "first error"):
        table.add_column(col, overflow="fold")
    colours = {"ok": "green", "partial": "yellow", "failed": "red"}
    for s in status.sources:
        result = s["result"] or "never"
        table.add_row(s["id"], "yes" if s["enabled"] else "no", (s["last_crawl"] or "-")[:19].replace("T", " "),
                      f"[{colours.get(result, 'white')}]{result}[/]", str(s["pages"]), str(s["published"]),
                      str(s["errors"]), s["first_error"] or "")
    return table


def status(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    smtp: bool = typer.Option(True, "--smtp/--no-smtp", help="Check the SMTP server too."),
) -> None:
    """Show consumer lag per topic and group, messages per stage in the last minute, documents
    indexed (all / relevant), campaigns, alerts sent/pending/failed, dead letters, the last crawl
    of every source, and the health of Kafka, Elasticsearch and SMTP.

    Exit code 1 when a service is down. Example: newsmon status --json | jq .lags
    """
    st = collect_status(settings(), smtp=smtp)
    if as_json:
        print(json.dumps(st.as_json(), ensure_ascii=False, indent=2))
    else:
        console.print(_health_table(st))
        if st.lags:
            console.print(lag_table(st))
        console.print(_counts_table(st))
        if st.sources:
            console.print(_sources_table(st))
        for err in st.errors:
            console.print(f"[yellow]could not read {err}[/]")
    if not st.healthy:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("status")(status)
