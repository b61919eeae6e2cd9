"""Scrapy project: spiders (what to fetch), item pipelines (what to do with it)."""
