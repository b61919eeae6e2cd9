"""One alerter process for the concurrency test: `python -m tests.alerts.alerter_process GROUP IDLE`.
Settings come from the environment (NEWSMON_*), as for `newsmon consume alerter`."""

from __future__ import annotations

import logging
import sys

from consumers.alerter import AlerterConsumer
from newsmon.settings import load_settings

if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    settings = load_settings()
    alerter = AlerterConsumer(settings, group_id=settings.topic(sys.argv[1]))
    stats = alerter.run(max_idle_seconds=float(sys.argv[2]))
    print(f"consumed {stats.consumed} dead-lettered {stats.dead_lettered}")
