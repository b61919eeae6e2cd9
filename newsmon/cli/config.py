"""`newsmon config`: show the effective settings."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from newsmon.cli._common import console, settings
from newsmon.settings import Settings


def config(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Print the effective settings (NEWSMON_* environment variables over defaults), secrets masked.

    Example: NEWSMON_ES_URL=https://es.example:9200 newsmon config
    """
    shown = settings().masked()
    if as_json:
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    table = Table(title="newsmon settings", show_lines=False)
    table.add_column("setting")
    table.add_column("environment variable", style="dim")
    table.add_column("value")
    for name, value in shown.items():
        desc = Settings.model_fields[name].description or ""
        table.add_row(name, f"NEWSMON_{name.upper()}", value + (f"  [dim]{desc}[/]" if desc else ""))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("config")(config)
