"""Small helpers shared by the command modules."""

from __future__ import annotations

from rich.console import Console

from newsmon.settings import Settings, get_settings

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def settings() -> Settings:
    return get_settings()
