"""Run the benchmarks and print one table: `python -m benchmarks [processor ...] [--json out.json]`."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys

from rich.console import Console
from rich.table import Table

AVAILABLE = ("processor",)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("names", nargs="*", default=list(AVAILABLE), help=f"benchmarks to run ({', '.join(AVAILABLE)})")
    ap.add_argument("--json", dest="json_out", help="also write the rows as JSON to this file")
    args = ap.parse_args(argv)
    unknown = [n for n in args.names if n not in AVAILABLE]
    if unknown:
        print(f"error: unknown benchmark {unknown[0]!r} (choose from {', '.join(AVAILABLE)})", file=sys.stderr)
        return 2
    machine = {"cores": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()}
    rows: list[dict] = []
    for name in args.names:
        rows.extend(importlib.import_module(f"benchmarks.{name}").run())
    table = Table(title=f"newsmon benchmarks — {machine['cores']} cores, Python {machine['python']}")
    for col in ("benchmark", "metric", "value", "unit", "notes"):
        table.add_column(col)
    for r in rows:
        value = r["value"]
        table.add_row(r["benchmark"], r["metric"], f"{value:,.2f}" if isinstance(value, float) else str(value),
                      r.get("unit", ""), r.get("notes", ""))
    Console().print(table)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump({"machine": machine, "rows": rows}, fh, ensure_ascii=False, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
