"""`newsmon dead-letter list|replay`: what could not be processed, and a way to try again."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from newsmon.cli import CliError
from newsmon.cli._common import console, settings
from newsmon.deadletter import read_dead_letters, replay

dl_app = typer.Typer(help="Show and re-queue messages that a stage could not process.\n\n"
                     "Example: newsmon dead-letter list --reason spam", no_args_is_help=True)


def _select(stage: str | None, reason: str | None, refs: list[str] | None):
    letters = list(read_dead_letters(settings()))
    if stage:
        letters = [lt for lt in letters if lt.letter.stage == stage]
    if reason:
        letters = [lt for lt in letters if lt.letter.reason == reason]
    if refs:
        wanted = set(refs)
        bad = [r for r in wanted if r.count(":") != 1 or not all(x.isdigit() for x in r.split(":"))]
        if bad:
            raise CliError(f"bad reference {bad[0]!r}: use PARTITION:OFFSET as shown by `newsmon dead-letter list`")
        letters = [lt for lt in letters if lt.ref in wanted]
    return letters


@dl_app.command("list")
def list_(
    stage: str | None = typer.Option(None, help="Only this stage (crawler, processor, indexer, alerter)."),
    reason: str | None = typer.Option(None, help="Only this reason (spam, invalid_json, exception, ...)."),
    limit: int = typer.Option(50, min=1, help="Show at most this many (newest last)."),
    as_json: bool = typer.Option(False, "--json", help="JSON Lines instead of a table."),
) -> None:
    """List dead letters with their stage, reason and error.

    Example: newsmon dead-letter list --stage processor --limit 20
    """
    letters = _select(stage, reason, None)
    counts: dict[str, int] = {}
    for lt in letters:
        counts[lt.letter.reason] = counts.get(lt.letter.reason, 0) + 1
    shown = letters[-limit:]
    if as_json:
        for lt in shown:
            print(json.dumps({"ref": lt.ref, **lt.letter.model_dump(mode="json")}, ensure_ascii=False))
        return
    table = Table(title=f"dead letters: {len(letters)} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items())) or 'none'})")
    for col in ("ref", "failed at", "stage", "reason", "key", "error"):
        table.add_column(col, overflow="fold")
    for lt in shown:
        d = lt.letter
        table.add_row(lt.ref, d.failed_at.strftime("%Y-%m-%d %H:%M:%S"), d.stage, d.reason, (d.key or "")[:16],
                      d.error[:120])
    console.print(table)


@dl_app.command("replay")
def replay_(
    refs: list[str] = typer.Argument(None, help="PARTITION:OFFSET of letters to replay (default: all selected)."),
    stage: str | None = typer.Option(None, help="Only this stage."),
    reason: str | None = typer.Option(None, help="Only this reason."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Re-queue dead letters on their original topic with their original key, to be processed again.

    Example: newsmon dead-letter replay --stage processor --reason exception --yes
    """
    letters = _select(stage, reason, refs)
    if not letters:
        raise CliError("no dead letters match")
    if not yes and not typer.confirm(f"replay {len(letters)} message(s)?"):
        raise typer.Abort()
    n = replay(settings(), letters)
    console.print(f"replayed {n} message(s)")


def register(app: typer.Typer) -> None:
    app.add_typer(dl_app, name="dead-letter")
