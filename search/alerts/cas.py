"""Read-modify-write of one Elasticsearch document, safe against concurrent writers.

No scripts: the new version is computed in Python from the version read, and written with
`if_seq_no`/`if_primary_term` (or `op_type=create` when the document did not exist). A concurrent
write makes ours fail with a conflict; we read again and recompute, so every writer's change is
applied exactly once, in some order. `mutate` must therefore be a pure function of what it is given.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError


class TooMuchContention(RuntimeError):
    """The document kept changing under us; the caller retries later."""


def read_modify_write(es: Elasticsearch, index: str, doc_id: str,
                      mutate: Callable[[dict[str, Any] | None], dict[str, Any] | None],
                      *, attempts: int = 50, refresh: bool | str = False) -> tuple[dict[str, Any] | None, bool]:
    """Apply `mutate(current or None)` to the document; returns (new document, created?).
    `mutate` returning None means "leave it as it is"."""
    for attempt in range(attempts):
        try:
            got = es.get(index=index, id=doc_id)
            current, seq_no, term = got["_source"], got["_seq_no"], got["_primary_term"]
        except NotFoundError:
            current, seq_no, term = None, None, None
        new = mutate(copy.deepcopy(current))
        if new is None:
            return current, False
        try:
            if current is None:
                es.create(index=index, id=doc_id, document=new, refresh=refresh)
                return new, True
            es.index(index=index, id=doc_id, document=new, if_seq_no=seq_no, if_primary_term=term, refresh=refresh)
            return new, False
        except ConflictError:
            # another writer got there first: back off a little (jitter breaks lock-step) and redo
            time.sleep(min(0.5, 0.005 * (attempt + 1)) * random.random())
    raise TooMuchContention(f"{index}/{doc_id}: still conflicting after {attempts} attempts")
