"""`newsmon index init|status|migrate`: Elasticsearch templates, versioned indices and aliases."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.table import Table

from newsmon.cli import CliError
from newsmon.cli._common import console, err_console, settings
from newsmon.es import make_es
from search.errors import elasticsearch_errors
from search.indices import (
    SPECS,
    IndexManagementError,
    IndexSpec,
    index_status,
    init_all,
    migrate_index,
)

index_app = typer.Typer(
    help="Create and evolve the Elasticsearch indices: newsmon-articles and newsmon-campaigns are aliases "
         "over versioned indices, so a new mapping is a migration without downtime.\n\n"
         "Example: newsmon index init && newsmon index status",
    no_args_is_help=True)


def _specs(which: str) -> list[IndexSpec]:
    if which == "all":
        return list(SPECS.values())
    if which not in SPECS:
        raise CliError(f"unknown index {which!r}; use {', '.join(SPECS)} or all")
    return [SPECS[which]]


@index_app.command()
def init(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Create or update the index templates and the first index behind each alias (idempotent).

    Safe to run any number of times; an existing index is never changed.

    Example: newsmon index init
    """
    s = settings()
    with elasticsearch_errors(s, CliError):
        es = make_es(s)
        try:
            results = init_all(es, s)
        except IndexManagementError as exc:
            raise CliError(str(exc)) from None
    if as_json:
        print(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=2))
        return
    table = Table(title="index init")
    for col in ("alias", "template", "write index", "index", "mapping"):
        table.add_column(col)
    for r in results:
        style = "yellow" if r.action in ("needs migration", "newer than this code") else "green"
        table.add_row(r.alias, r.template, r.index, f"[{style}]{r.action}[/]", f"v{r.index_version} (code v{r.code_version})")
    console.print(table)
    if any(r.action == "needs migration" for r in results):
        err_console.print("run `newsmon index migrate` to move to the new mapping without downtime")


@index_app.command()
def status(
    which: str = typer.Option("all", "--index", help="articles, campaigns or all."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show each alias with its indices: documents, size, health, mapping version (exit 1 on problems).

    The write index is the one new documents go to; status exits 1 when something needs attention.

    Example: newsmon index status --index articles
    """
    s = settings()
    with elasticsearch_errors(s, CliError):
        es = make_es(s)
        statuses = [index_status(es, s, spec) for spec in _specs(which)]
    if as_json:
        print(json.dumps([asdict(st) | {"ok": st.ok} for st in statuses], ensure_ascii=False, indent=2))
    else:
        for st in statuses:
            table = Table(title=f"{st.alias}  (code mapping v{st.code_version}, template "
                                f"v{st.template_version if st.template_version is not None else '-'}, "
                                f"cluster {st.cluster_health})")
            for col in ("index", "alias", "docs", "size", "health", "mapping"):
                table.add_column(col, justify="right" if col in ("docs", "size") else "left",
                                 overflow="fold")
            for i in st.indices:
                role = "write" if i.is_write_index else ("read" if i.in_alias else "-")
                table.add_row(i.name, role, f"{i.docs:,}", _size(i.size_bytes), i.health,
                              f"v{i.mapping_version}" if i.mapping_version is not None else "?")
            console.print(table)
            for problem in st.problems:
                console.print(f"[yellow]{st.alias}: {problem}[/]")
    if not all(st.ok for st in statuses):
        raise typer.Exit(1)


@index_app.command()
def migrate(
    which: str = typer.Option("articles", "--index", help="articles, campaigns or all."),
    force: bool = typer.Option(False, "--force", help="Rebuild even when the mapping version is current."),
    delete_old: bool = typer.Option(False, "--delete-old", help="Delete the previous index after the switch."),
    from_index: str | None = typer.Option(None, "--from",
                                          help="Adopt this plain index (one created under the alias name)."),
    batch_size: int = typer.Option(500, min=1, max=10_000, help="Documents per bulk request while copying."),
) -> None:
    """Move an alias to a new index with the current mapping while searches keep answering.

    Creates the next index, copies every document (scroll + bulk, rebuilt for the new mapping),
    copies what was written meanwhile and switches the alias atomically.

    Example: newsmon index migrate --index articles --delete-old
    """
    s = settings()
    specs = _specs(which)
    if from_index and len(specs) != 1:
        raise CliError("--from needs a single --index")
    with elasticsearch_errors(s, CliError):
        es = make_es(s, request_timeout=max(s.es_request_timeout, 120))
        for spec in specs:
            try:
                result = migrate_index(es, s, spec, force=force, delete_source=delete_old, from_index=from_index,
                                       batch_size=batch_size, progress=lambda m: err_console.print(f"[dim]{m}[/]", soft_wrap=True))
            except IndexManagementError as exc:
                raise CliError(str(exc)) from None
            if result.skipped:
                console.print(f"{result.alias}: nothing to do, {result.skipped}", soft_wrap=True)
                continue
            console.print(f"{result.alias}: {result.source} → {result.target}: {result.copied:,} documents copied, "
                          f"{result.caught_up:,} caught up, {result.seconds:.1f}s"
                          + (f"; {result.source} deleted" if result.deleted_source else ""), soft_wrap=True)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
