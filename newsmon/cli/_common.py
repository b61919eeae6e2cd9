"""Small helpers shared by the command modules."""

from __future__ import annotations

from datetime import date

from rich.console import Console

from newsmon.settings import Settings, get_settings

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def settings() -> Settings:
    return get_settings()


def parse_date(value: str | None, option: str = "--date") -> date | None:
    """A YYYY-MM-DD option value (None when not given); a one-line CliError otherwise."""
    from newsmon.cli import CliError

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option} must be YYYY-MM-DD, got {value!r}") from None
