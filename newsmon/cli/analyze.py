"""`newsmon analyze`: the processor, offline — JSON Lines in, JSON Lines out (DESIGN.md contract)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import IO

import typer

from newsmon.cli import CliError


def _open_in(path: str) -> IO[str]:
    if path == "-":
        return sys.stdin
    p = Path(path)
    if not p.is_file():
        raise CliError(f"input file not found: {path}")
    return p.open(encoding="utf-8", errors="replace")


def _open_out(path: str) -> IO[str]:
    if path == "-":
        return sys.stdout
    try:
        return Path(path).open("w", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}") from None


_ID_GUESS = re.compile(r'"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)')


def analyze_line(line: str, clusters) -> dict:
    """One input line -> one output object; a malformed line gives an error object for its id."""
    from consumers.analysis.pipeline import analyze_record

    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        m = _ID_GUESS.search(line)
        rid = json.loads(m.group(1)) if m else None
        return {"id": rid, "error": f"invalid JSON: {exc.msg} at column {exc.colno}"}
    try:
        return analyze_record(record, clusters=clusters)
    except Exception as exc:  # the contract: an error object for this id, never a crash
        rid = record.get("id") if isinstance(record, dict) else None
        return {"id": rid, "error": f"analysis failed: {type(exc).__name__}: {exc}"}


def analyze(
    input: str = typer.Option("-", "--input", "-i", help="JSON Lines file, or - for stdin."),
    output: str = typer.Option("-", "--output", "-o", help="JSON Lines file, or - for stdout."),
) -> None:
    """Analyse pages offline: each input line {"id","text"} or {"id","html","url"} gives one output line
    {"id","spam","stories":[...]} in the same order (no Kafka or Elasticsearch needed).

    Example: echo '{"id":"1","text":"铁岭清理微信工作群746个\\n\\n本报讯 ..."}' | newsmon analyze
    """
    from consumers.analysis.dedup import InMemoryClusterIndex

    clusters = InMemoryClusterIndex()  # copies within one run share a cluster id
    src, dst = _open_in(input), _open_out(output)
    try:
        for line in src:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            dst.write(json.dumps(analyze_line(line, clusters), ensure_ascii=False, default=str) + "\n")
            dst.flush()
    finally:
        if dst is not sys.stdout:
            dst.close()


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
