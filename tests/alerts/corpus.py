"""Stories as the processor emits them, built from the labelled seeds and the fixture news site.

Ground truth comes from the labels (seeds: labels.json; fixture articles: manifest.json and
content.yaml): relevance, regions, dates, outlets, and for seeds the measures, figures and policy
documents. Fixture articles carry no measure labels, so their measures and figures come from the
processor's own analysis functions, as in production. URLs are those of the fixture site.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import yaml

from newsmon import gazetteer
from newsmon.schemas import Figure, Region, Story, stable_id

SITE = Path(__file__).resolve().parents[1] / "fixtures" / "site"
CHINA = timezone(timedelta(hours=8))


@lru_cache(maxsize=1)
def manifest() -> dict:
    return json.loads((SITE / "manifest.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def content() -> dict:
    return yaml.safe_load((SITE / "content.yaml").read_text(encoding="utf-8"))


def _published(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=6, tzinfo=CHINA)


def _region(adcode: str) -> Region:
    d = gazetteer.lookup(adcode)
    assert d is not None, adcode
    return Region(**d.as_region())


def _story_text(page: str, title: str, next_title: str | None) -> str:
    start = page.find(title)
    start = 0 if start < 0 else start + len(title)
    end = page.find(next_title, start) if next_title else -1
    return page[start:end if end > 0 else None].strip()


def seed_stories(seeds_dir: str) -> list[Story]:
    """Every labelled story of the five seed pages, dated and placed as on the fixture site."""
    labels = json.loads((Path(seeds_dir) / "labels.json").read_text(encoding="utf-8"))["seeds"]
    by_seed = {a["seed"]: a for a in manifest()["articles"] if a["seed"]}
    out = []
    for name, seed in labels.items():
        page = (Path(seeds_dir) / name).read_text(encoding="utf-8")
        article = by_seed[name]
        titles = [s["title"] for s in seed["stories"]]
        for i, label in enumerate(seed["stories"]):
            text = _story_text(page, label["title"], titles[i + 1] if i + 1 < len(titles) else None)
            out.append(Story(
                id=stable_id(name, str(i)), page_key=stable_id(name), ordinal=i, source_id="fixture-listing",
                outlet=article["outlet"], url=manifest()["base_url"] + article["path"], title=label["title"],
                text=text, published_at=_published(article["date"]), relevant=label["relevant"],
                kind=label.get("kind"), measures=label.get("measures", []),
                regions=[_region(r["adcode"]) for r in label.get("regions", [])],
                figures=[Figure(**f) for f in label.get("figures", [])],
                policy_documents=label.get("policy_documents", []), cluster_id=stable_id("cluster", name, str(i)),
            ))
    return out


def fixture_stories() -> list[Story]:
    """The fixture site's own articles (not the seeds), relevant and not."""
    from consumers.analysis.figures import extract_figures
    from consumers.analysis.relevance import classify_relevance

    written = {a["id"]: a for a in content()["articles"]}
    out = []
    for article in manifest()["articles"]:
        if article["seed"] or article["id"] not in written:
            continue
        body = "\n\n".join(written[article["id"]]["body"])
        measures = classify_relevance(article["title"], body).measures if article["relevant"] else []
        figures = [Figure(what=f.what, value=f.value, unit=f.unit, text=f.text, measure=f.measure)
                   for f in extract_figures(body, measures)] if article["relevant"] else []
        out.append(Story(
            id=stable_id("fixture", article["id"]), page_key=stable_id(article["path"]), source_id="fixture-listing",
            outlet=article["outlet"], url=manifest()["base_url"] + article["path"], title=article["title"],
            text=body, published_at=_published(article["date"]), relevant=article["relevant"], measures=measures,
            regions=[_region(c) for c in article["regions"]] if article["relevant"] else [], figures=figures,
            cluster_id=stable_id("cluster", article["id"]),
        ))
    return out


def administrations_of(stories: list[Story]) -> set[str]:
    """Adcodes (or 'national') running the campaigns these stories report, from the labels alone:
    every relevant story that is not a commentary, each region it names."""
    found = set()
    for s in stories:
        if s.relevant and s.kind != "commentary":
            found |= {r.adcode for r in s.regions} or {"national"}
    return found
