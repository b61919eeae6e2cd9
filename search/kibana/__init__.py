"""Kibana saved objects for newsmon (`newsmon.ndjson`, built by `search.kibana.objects`), their
checks, and the client for Kibana's saved-objects import API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NDJSON_PATH = Path(__file__).with_name("newsmon.ndjson")


class SavedObjectsError(ValueError):
    """A saved-objects file that does not parse or hangs together; one-line message."""


def parse_ndjson(text: str, origin: str = "saved objects") -> list[dict[str, Any]]:
    objects = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SavedObjectsError(f"{origin}:{n}: not JSON: {exc.msg}") from None
        if not isinstance(obj, dict) or not obj.get("type") or not obj.get("id"):
            raise SavedObjectsError(f"{origin}:{n}: a saved object needs a type and an id")
        objects.append(obj)
    return objects


def load_objects(path: Path = NDJSON_PATH) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SavedObjectsError(f"cannot read {path}: {exc.strerror}") from None
    return parse_ndjson(text, str(path))
