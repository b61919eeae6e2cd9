"""`newsmon demo`: the whole service on the fixture news site, one command (newsmon.demo)."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from newsmon.cli import CliError
from newsmon.cli._common import console, err_console, settings
from newsmon.demo import SUBSCRIBER, DemoError, DemoSummary, run_demo
from newsmon.service import ServiceError


def _print(summary: DemoSummary) -> None:
    table = Table(title="newsmon demo — 滨江日报 fixture site")
    table.add_column("what")
    table.add_column("all runs", justify="right")
    table.add_column("this run", justify="right")
    table.add_row("article pages published to Kafka", str(summary.articles_published), str(summary.published_this_run))
    table.add_row("stories indexed", str(summary.stories), "")
    table.add_row("  burden-reduction (基层减负) stories", str(summary.relevant), "")
    table.add_row("campaigns", str(summary.campaigns), "")
    table.add_row(f"e-mails to {SUBSCRIBER}", str(len(summary.emails)), str(summary.emails_this_run))
    table.add_row("dead letters (spam, junk pages)", str(summary.dead_letters), "")
    console.print(table)

    crawls = Table(title="last crawl per source")
    for col in ("source", "result", "pages", "new articles published"):
        crawls.add_column(col)
    for s in summary.sources:
        crawls.add_row(s["id"], s["result"] or "never", str(s["pages"]), str(s["published"]))
    console.print(crawls)

    console.print("[bold]e-mails (subjects, from the mail catcher)[/]")
    for m in summary.emails:
        console.print(f"  {m['subject']}")
    console.print("[bold]top facets of the burden-reduction stories (the Kibana dashboard's panels)[/]")
    for name in ("province", "measure"):
        buckets = ", ".join(f"{k} {n}" for k, n in summary.facets.get(name, [])[:6])
        console.print(f"  {name}: {buckets}")
    for search in summary.searches:
        console.print(f"[bold]newsmon search {search['query']}[/]  → {search['total']} stories")
        for hit in search["hits"]:
            console.print(f"  {hit['date'] or '':<10} {hit['region']:<14} {hit['title']}")


def demo(
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
    timeout: float = typer.Option(600.0, min=10, help="Give up waiting for the cycle after this many seconds."),
) -> None:
    """Show the whole service working on this machine: start the local Kafka + Elasticsearch, serve
    the fixture news site 滨江日报 and a mail catcher on 127.0.0.1, register the site's five
    sources and the subscriber analyst@example.org, run one full cycle (crawl → process → index →
    alert) until every stage is idle, then print what was found, the e-mails, the top facets and
    three example searches. Running it again changes nothing and sends no e-mail twice.

    Example: newsmon demo      (afterwards: newsmon search 微信工作群; newsmon stack down)
    """
    try:
        summary = run_demo(settings(), progress=lambda m: err_console.print(f"[dim]{m}[/]"), timeout=timeout)
    except (DemoError, ServiceError) as exc:
        raise CliError(str(exc)) from None
    if as_json:
        print(json.dumps(summary.as_json(), ensure_ascii=False, indent=2))
    else:
        _print(summary)
        console.print(f"done in {summary.seconds:.0f}s ({summary.run_reason}); logs in {summary.run_dir}/logs. "
                      "The stack keeps running: search with `newsmon search 微信工作群`, watch with "
                      "`newsmon status`, stop with `newsmon stack down`.")
    if summary.run_reason != "idle":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
