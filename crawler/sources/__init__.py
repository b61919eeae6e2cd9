"""Shipped source lists: default.yaml, real regional outlets (best known URLs, unverified)."""

from pathlib import Path

DEFAULT_SOURCES = Path(__file__).with_name("default.yaml")
