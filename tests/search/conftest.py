"""A module's worth of seed stories, delivered through the real broker and indexed by the real
indexer consumer into a namespace of its own."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from newsmon.settings import Settings
from tests.search.helpers import delete_namespace_indices, own_namespace, produce_stories, run_indexer
from tests.search.seed_stories import SeedStory, load_seed_stories


@dataclass
class IndexedSeeds:
    settings: Settings
    stories: list[SeedStory]
    indexer_stats: object

    def key_of(self, story_id: str) -> str:
        return next(s.key for s in self.stories if s.story.id == story_id)

    def keys(self, ids) -> set[str]:
        return {self.key_of(i) for i in ids}


@pytest.fixture(scope="module")
def indexed_seeds(settings, seeds_dir):
    s = own_namespace(settings, "seeds")
    stories = load_seed_stories(seeds_dir)
    produce_stories(s, [st.story for st in stories])
    consumer = run_indexer(s)
    yield IndexedSeeds(s, stories, consumer.stats)
    delete_namespace_indices(s)
