"""The labelled evaluation corpus in `data/corpus/*.jsonl` and its fixed train/test split.

One JSON object per line (an "item" = one page):

    {"id": "rel-hn-001",
     "category": "relevant" | "hard_negative" | "unrelated" | "spam" | "injected",
     "script": "simplified" | "traditional",
     "input": {"text": "title\\n\\nparagraph\\n\\n..."}  or  {"html": "<html>...", "url": "http://..."},
     "outlet": "湖南日报" | null,
     "home_region": {"province", "city", "county", "adcode"} | null,   # the outlet's home
     "spam": false,
     "stories": [{"title", "relevant", "measures": [...],
                  "regions": [{"province", "city", "county", "adcode"}],   # most specific first
                  "figures": [{"value", "unit", "text"}]}]}                 # text: exact substring of input

The split is a pure function of the id (40 % test), so nobody chooses which items are tested and
tuning can be kept to the train part: rules and the classifier may only be fitted on `split="train"`.
Files named `heldout_*.jsonl` are batches written after the rules were tuned: all their items are
test items whatever their ids hash to, so no held-out item can reach training.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

CORPUS_DIR = Path(__file__).parent / "data" / "corpus"
Split = Literal["train", "test", "all"]
HELDOUT_PREFIX = "heldout_"


def split_of(item_id: str) -> Literal["train", "test"]:
    """Deterministic 60/40 train/test assignment from the id alone."""
    return "test" if int(hashlib.sha1(item_id.encode("utf-8")).hexdigest(), 16) % 5 < 2 else "train"


def load_corpus(split: Split = "all", corpus_dir: Path = CORPUS_DIR) -> Iterator[dict[str, Any]]:
    """Yield corpus items of the given split, in file then line order; ids must be unique."""
    seen: set[str] = set()
    for path in sorted(corpus_dir.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path.name}:{lineno}: invalid JSON: {exc}") from None
                if item["id"] in seen:
                    raise ValueError(f"{path.name}:{lineno}: duplicate id {item['id']!r}")
                seen.add(item["id"])
                item["split"] = "test" if path.name.startswith(HELDOUT_PREFIX) else split_of(item["id"])
                if split == "all" or item["split"] == split:
                    yield item
