"""`newsmon consume <stage>`: run one long-lived Kafka consumer stage (one process per stage; start
more processes of a stage to scale it out, up to the topic's partitions)."""

from __future__ import annotations

import importlib
import logging
from dataclasses import asdict

import typer

from newsmon.cli import CliError
from newsmon.cli._common import console, settings
from newsmon.logs import setup_logging

consume_app = typer.Typer(
    help="Run a pipeline stage as a Kafka consumer (at-least-once, commits after the downstream write).\n\n"
         "Example: newsmon consume processor & newsmon consume indexer",
    no_args_is_help=True)


def _logging() -> None:
    setup_logging(settings())


def _run(consumer, max_idle_seconds: float | None) -> None:
    consumer.install_signal_handlers()
    stats = consumer.run(max_idle_seconds=max_idle_seconds)
    by_reason = ", ".join(f"{k} {v}" for k, v in sorted(stats.by_reason.items())) or "none"
    summary = (f"{consumer.name}: {stats.consumed} consumed, {stats.produced} produced, "
               f"{stats.dead_lettered} dead-lettered ({by_reason}), {stats.retries} batch retries")
    if settings().log_format == "json":   # under `newsmon run`: keep the log file JSON lines
        logging.getLogger("newsmon.consume").info(summary, extra={"stats": asdict(stats)})
    else:
        console.print(summary)


_IDLE_HELP = "Stop after this many seconds without messages (demos, tests); default: run until stopped."


@consume_app.command()
def indexer(
    group: str | None = typer.Option(None, help="Consumer group (default: newsmon-indexer, namespace applied)."),
    flush_interval: float = typer.Option(1.0, min=0.0, max=60.0,
                                         help="Seconds a bulk may wait to fill before it is sent."),
    bulk_actions: int = typer.Option(500, min=1, max=10_000, help="Documents per bulk request at most."),
    bulk_mb: float = typer.Option(5.0, min=0.1, max=90.0, help="Megabytes per bulk request at most."),
    max_idle_seconds: float | None = typer.Option(None, help=_IDLE_HELP),
) -> None:
    """Index stories from newsmon.articles into the newsmon-articles alias.

    The document id is the story id, so a redelivered story overwrites itself; documents that
    Elasticsearch rejects (mapping errors) go to newsmon.dead-letter with the reason.

    Example: newsmon consume indexer --flush-interval 0.5
    """
    _logging()
    from consumers.indexer import IndexerConsumer

    _run(IndexerConsumer(settings(), group, max_actions=bulk_actions, max_bytes=int(bulk_mb * 1024 * 1024),
                         flush_interval=flush_interval), max_idle_seconds)


@consume_app.command()
def processor(
    group: str | None = typer.Option(None, help="Consumer group (default: newsmon-processor, namespace applied)."),
    max_idle_seconds: float | None = typer.Option(None, help=_IDLE_HELP),
) -> None:
    """Turn raw pages from newsmon.raw-pages into stories on newsmon.articles.

    Spam and undecodable pages go to newsmon.dead-letter with the reason.

    Example: newsmon consume processor
    """
    _logging()
    try:
        module = importlib.import_module("consumers.processor")
    except ModuleNotFoundError as exc:
        if exc.name != "consumers.processor":
            raise
        raise CliError("the processor stage is not available in this installation (consumers/processor.py "
                       "is missing)") from None
    consumer_class = getattr(module, "ProcessorConsumer", None)
    if consumer_class is None:
        raise CliError("consumers.processor has no ProcessorConsumer class")
    _run(consumer_class(settings(), group), max_idle_seconds)


@consume_app.command()
def alerter(
    group: str | None = typer.Option(None, help="Consumer group (default: newsmon-alerter, namespace applied)."),
    max_idle_seconds: float | None = typer.Option(None, help=_IDLE_HELP),
) -> None:
    """File relevant stories into campaigns and e-mail subscribers once per campaign; also sends
    retries, daily digests and quiet-source notices.

    Example: newsmon consume alerter
    """
    _logging()
    from consumers.alerter import AlerterConsumer
    from search.alerts.config import load_alerts_config

    _run(AlerterConsumer(settings(), group, config=load_alerts_config()), max_idle_seconds)


def register(app: typer.Typer) -> None:
    app.add_typer(consume_app, name="consume")
