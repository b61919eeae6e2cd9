"""Story messages built from the hand-labelled seed pages: each labelled story is the text from its
title to the next title, with the labels (relevance, regions, measures, figures, documents) as the
processor should produce them. Search tests index these through the real broker, so what they
check is the search side alone, independent of the classifier's accuracy.

Only the seeds 003 (2019-04-08) and 004 (2021-01-30) print a date; the others get the edition
dates below so date-range filters have something to test.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime

from consumers.analysis.normalize import to_simplified
from newsmon.schemas import Story, stable_id
from search.documents import CHINA_TZ

EDITION_DATES = {
    "000_ccb63704acf008df.txt": "2019-11-15",
    "001_af67f4e76d60647f.txt": "2020-06-04",
    "002_1e3f9b62d9072bb2.txt": "2020-07-20",
    "003_4e77723d70b999b6.txt": "2019-04-08",
    "004_b70f7a28cb70b0c4.txt": "2021-01-30",
}
SOURCE_IDS = {
    "000_ccb63704acf008df.txt": "lnrb-epaper",
    "001_af67f4e76d60647f.txt": "people-social",
    "002_1e3f9b62d9072bb2.txt": "nmgrb-epaper",
    "003_4e77723d70b999b6.txt": "fjsen-xiamen",
    "004_b70f7a28cb70b0c4.txt": "dlrb-epaper",
}


@dataclass(frozen=True)
class SeedStory:
    seed: str
    ordinal: int
    story: Story

    @property
    def key(self) -> str:
        """Short name for assertions: seed number and ordinal, e.g. '000-1'."""
        return f"{self.seed[:3]}-{self.ordinal}"


def _anchor(title: str) -> str:
    # "来自省两会的报道 (several continuation pieces)": the label describes; the page prints the part before
    return title.split(" (")[0]


def load_seed_stories(seeds_dir: str) -> list[SeedStory]:
    with open(os.path.join(seeds_dir, "labels.json"), encoding="utf-8") as fh:
        labels = json.load(fh)["seeds"]
    out: list[SeedStory] = []
    for seed, label in sorted(labels.items()):
        with open(os.path.join(seeds_dir, seed), encoding="utf-8") as fh:
            page = fh.read()
        traditional = label.get("script") == "traditional"
        found = sorted((page.find(_anchor(s["title"])), i) for i, s in enumerate(label["stories"])
                       if page.find(_anchor(s["title"])) >= 0)
        for n, (start, i) in enumerate(found):
            s = label["stories"][i]
            end = found[n + 1][0] if n + 1 < len(found) else len(page)
            anchor = _anchor(s["title"])
            body = page[start + len(anchor):end].strip()
            title_original = anchor
            title = s.get("title_simplified") or to_simplified(anchor)
            day = s.get("published") or label.get("published") or EDITION_DATES[seed]
            story = Story(
                id=stable_id(seed, str(i)), page_key=stable_id(seed), ordinal=i, source_id=SOURCE_IDS[seed],
                outlet=label["outlet"].split(" (")[0], url=f"http://127.0.0.1/seeds/{seed}#{i}",
                title=title, title_original=title_original if traditional else None,
                text=to_simplified(body) if traditional else body, text_original=body if traditional else None,
                byline=s.get("byline"), script="traditional" if traditional else "simplified",
                published_at=datetime.fromisoformat(day).replace(tzinfo=CHINA_TZ),
                fetched_at=datetime.fromisoformat(day).replace(hour=9, tzinfo=CHINA_TZ),
                relevant=bool(s["relevant"]), score=0.9 if s["relevant"] else 0.1,
                measures=s.get("measures", []),
                regions=[{k: r[k] for k in ("province", "city", "county", "adcode")} for r in s.get("regions", [])],
                figures=s.get("figures", []), policy_documents=s.get("policy_documents", []),
                kind=s.get("kind", "news"),
            )
            out.append(SeedStory(seed, i, story))
    return out


def by_key(stories: list[SeedStory]) -> dict[str, SeedStory]:
    return {s.key: s for s in stories}
