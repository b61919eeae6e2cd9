"""newsmon core: settings, message schemas, Kafka and Elasticsearch helpers, the CLI."""

__version__ = "0.1.0"
