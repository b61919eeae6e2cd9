"""The `newsmon` command line: one typer app, one module per command group.

Every module in this package that defines `register(app)` is discovered and registered, so a
new command group is one new file. Errors become one line on stderr and a non-zero exit code;
NEWSMON_DEBUG=1 shows the traceback instead.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer

app = typer.Typer(
    name="newsmon",
    help="Monitor Chinese regional news for grassroots burden-reduction (为基层减负) campaigns.\n\n"
    "Example: newsmon demo   (then: newsmon search 微信工作群; newsmon run; newsmon status)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


class CliError(Exception):
    """An expected failure with a message fit for one line."""


def _register_all() -> None:
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        register = getattr(module, "register", None)
        if register:
            register(app)


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) < 400 else text[:397] + "..."


def main() -> None:
    _register_all()
    try:
        # standalone_mode=False returns the exit code of typer.Exit instead of exiting
        rv = app(standalone_mode=False)
    except SystemExit:
        raise
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        # usage errors (bad option, missing argument): click's own one-line message and exit 2
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        if os.environ.get("NEWSMON_DEBUG"):
            raise
        print(f"error: {one_line(exc)}", file=sys.stderr)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)
