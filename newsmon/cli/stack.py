"""`newsmon stack up|down|status|logs`: the no-Docker local Kafka + Elasticsearch (deploy/local)."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.table import Table

from deploy.local.stack import LocalStack, StackError
from newsmon.cli import CliError
from newsmon.cli._common import console, err_console, settings

stack_app = typer.Typer(help="Run a real Kafka broker and Elasticsearch node on 127.0.0.1 without Docker.\n\n"
                        "Example: newsmon stack up && newsmon stack status", no_args_is_help=True)


def _stack() -> LocalStack:
    return LocalStack(settings())


def _show(statuses, as_json: bool) -> bool:
    if as_json:
        print(json.dumps([asdict(s) for s in statuses], ensure_ascii=False, indent=2))
    else:
        table = Table(title="local stack")
        for col in ("service", "health", "version", "endpoint", "pid", "detail"):
            table.add_column(col)
        for s in statuses:
            table.add_row(s.name, "[green]healthy[/]" if s.healthy else "[red]down[/]", s.version or "-",
                          s.endpoint, str(s.pid or "-") + ("" if s.managed or not s.healthy else " (external)"),
                          s.detail)
        console.print(table)
    return all(s.healthy for s in statuses)


@stack_app.command()
def up(as_json: bool = typer.Option(False, "--json", help="Print the status as JSON.")) -> None:
    """Fetch (once, into the cache), start and wait for Kafka and Elasticsearch; reuse a running stack.

    Example: NEWSMON_ES_HEAP=2g newsmon stack up
    """
    try:
        statuses, seconds = _stack().up(progress=lambda m: err_console.print(f"[dim]{m}[/]"))
    except StackError as exc:
        if exc.details:
            err_console.print(exc.details, markup=False)
        raise CliError(str(exc)) from None
    ok = _show(statuses, as_json)
    err_console.print(f"stack up in {seconds:.1f}s")
    if not ok:
        raise typer.Exit(1)


@stack_app.command()
def down() -> None:
    """Stop the Kafka and Elasticsearch processes this stack started (by PID); data is kept.

    Example: newsmon stack down
    """
    _stack().down(progress=lambda m: console.print(m))


@stack_app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show health, version, endpoint and PID of Kafka and Elasticsearch; exit 1 when one is down.

    Example: newsmon stack status --json
    """
    if not _show(_stack().status(), as_json):
        raise typer.Exit(1)


@stack_app.command()
def logs(lines: int = typer.Option(40, "--lines", "-n", min=1, help="Lines per service.")) -> None:
    """Print the last lines of the Kafka and Elasticsearch logs.

    Example: newsmon stack logs -n 100
    """
    for name, text in _stack().logs(lines).items():
        console.rule(name)
        console.print(text or "(no log yet)", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(stack_app, name="stack")
