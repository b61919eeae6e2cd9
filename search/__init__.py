"""Everything Elasticsearch: templates, the bulk indexer, queries, campaigns, Kibana objects."""
