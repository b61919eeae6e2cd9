"""Long-running Kafka consumers (processor, indexer, alerter) on one shared base loop."""
