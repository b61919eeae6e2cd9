"""`newsmon kibana import|check`: the data views, saved searches, charts, map and dashboard."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from newsmon.cli import CliError
from newsmon.cli._common import console, err_console, settings
from newsmon.es import make_es
from search.errors import elasticsearch_errors
from search.kibana import NDJSON_PATH, SavedObjectsError, load_objects
from search.kibana.checks import field_problems, field_uses, reference_problems, view_indices, with_namespace
from search.kibana.client import KibanaClient, KibanaError
from search.kibana.objects import to_ndjson

kibana_app = typer.Typer(help="Kibana saved objects for analysts: data views, saved searches, the "
                         "\"基层减负 monitor\" dashboard.\n\nExample: newsmon kibana import --url http://127.0.0.1:5601",
                         no_args_is_help=True)

_FILE_HELP = "Saved objects (NDJSON); default: the ones shipped with newsmon."


def _objects(path: Path | None):
    try:
        objects = load_objects(path or NDJSON_PATH)
    except SavedObjectsError as exc:
        raise CliError(str(exc)) from None
    problems = reference_problems(objects)
    if problems:
        raise CliError(f"{len(problems)} problems in the saved objects, first: {problems[0]}")
    return with_namespace(objects, settings())


@kibana_app.command("import")
def import_(
    url: str | None = typer.Option(None, help="Kibana URL (default: NEWSMON_KIBANA_URL)."),
    user: str | None = typer.Option(None, "--user", envvar="NEWSMON_KIBANA_USER", help="Basic-auth user."),
    password: str | None = typer.Option(None, "--password", envvar="NEWSMON_KIBANA_PASSWORD",
                                        help="Basic-auth password (better: the environment variable)."),
    api_key: str | None = typer.Option(None, "--api-key", envvar="NEWSMON_KIBANA_API_KEY",
                                       help="Encoded API key instead of user and password."),
    space: str | None = typer.Option(None, help="Kibana space id (default: the default space)."),
    file: Path | None = typer.Option(None, "--file", help=_FILE_HELP),
    overwrite: bool = typer.Option(True, "--overwrite/--no-overwrite",
                                   help="Replace objects with the same id (re-import after an upgrade)."),
    query_defaults: bool = typer.Option(True, "--query-defaults/--keep-settings",
                                        help="Also make Lucene-syntax searches AND their terms (Kibana advanced "
                                             "setting query:queryString:options), so unquoted Chinese words "
                                             "need all their bigrams."),
) -> None:
    """Post the saved objects to Kibana's saved-objects import API and report what was created.

    Example: newsmon kibana import --url https://kibana.example:5601 --user elastic
    """
    if user and api_key:
        raise CliError("give either --user/--password or --api-key, not both")
    s = settings()
    base = (url or s.kibana_url).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise CliError(f"--url must start with http:// or https://, got {base!r}")
    objects = _objects(file)
    client = KibanaClient(base, username=user, password=password, api_key=api_key, space=space,
                          ca_certs=str(s.es_ca_certs) if s.es_ca_certs else None)
    try:
        report = client.import_objects(to_ndjson(objects), overwrite=overwrite)
        if query_defaults and report.success:
            client.set_query_string_defaults()
    except KibanaError as exc:
        raise CliError(str(exc)) from None
    table = Table(title=f"imported into {base}{'/s/' + space if space else ''}")
    for col in ("type", "id", "title", "result"):
        table.add_column(col)
    for o in report.imported:
        table.add_row(o.type, o.id, o.title, "overwritten" if o.overwritten else "created")
    console.print(table)
    kinds: dict[str, int] = {}
    for o in report.imported:
        kinds[o.type] = kinds.get(o.type, 0) + 1
    overwritten = sum(o.overwritten for o in report.imported)
    console.print(f"imported {len(report.imported)} saved objects ({', '.join(f'{n} {k}' for k, n in kinds.items())}; "
                  f"{len(report.imported) - overwritten} created, {overwritten} overwritten) into {base}",
                  soft_wrap=True)
    if query_defaults and report.success:
        console.print("set query:queryString:options to AND for Lucene-syntax searches")
    if report.errors:
        for e in report.errors:
            err_console.print(f"[red]not imported:[/] {e}")
        raise CliError(f"{len(report.errors)} of {len(objects)} saved objects were not imported")


@kibana_app.command()
def check(
    file: Path | None = typer.Option(None, "--file", help=_FILE_HELP),
) -> None:
    """Check the saved objects against the real indices: fields exist and aggregate where needed.

    Every field the objects use must be in the mapping; fields they aggregate, sort on or use as
    the time field must be aggregatable.

    Example: newsmon kibana check
    """
    s = settings()
    objects = _objects(file)
    uses = field_uses(objects)
    with elasticsearch_errors(s, CliError):
        es = make_es(s)
        caps = {view: es.field_caps(index=index, fields="*", ignore_unavailable=True)["fields"]
                for view, index in view_indices(objects).items()}
    problems = field_problems(uses, caps)
    for p in problems:
        err_console.print(f"[red]{p}[/]")
    if problems:
        raise CliError(f"{len(problems)} field problems in {len(objects)} saved objects")
    console.print(f"{len(objects)} saved objects, {len(uses)} field uses: all fields exist with usable types")


def register(app: typer.Typer) -> None:
    app.add_typer(kibana_app, name="kibana")
