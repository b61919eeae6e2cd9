"""Logging set-up shared by every long-running command.

Text lines for a person at a terminal; with NEWSMON_LOG_FORMAT=json (what `newsmon run` gives its
children) one JSON object per line via python-json-logger, so each per-process log file can be
read by machines (jq, Filebeat) without parsing free text.
"""

from __future__ import annotations

import logging
import os

from newsmon.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_QUIET = ("elastic_transport", "kafka", "scrapy.core.scraper", "urllib3")


def setup_logging(settings: Settings, *, process: str | None = None) -> None:
    """Configure the root logger once for this process (later calls replace the handler)."""
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        static = {"process_name": process or os.environ.get("NEWSMON_PROCESS_NAME") or "newsmon"}
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                           rename_fields={"asctime": "time", "levelname": "level",
                                                          "name": "logger"},
                                           static_fields=static, json_ensure_ascii=False))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
