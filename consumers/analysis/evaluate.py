"""Evaluate the whole analysis pipeline against the labelled corpus.

    python -m consumers.analysis.evaluate [--split test|train|all] [--json] [--details]

Every item of the split goes through `pipeline.analyze_record` (the code path of `newsmon analyze`
and the processor). Predicted stories are matched to labelled ones by title (Traditional ->
Simplified, width-folded, whitespace and punctuation removed, fuzzy ratio >= 0.8), then:

* relevance precision / recall, story level: a labelled relevant story that no predicted story
  matches is a miss; a predicted relevant story that matches no labelled relevant story is a
  false alarm;
* province / city accuracy over labelled relevant stories with a region: the first predicted
  region against the first labelled one (city None == None counts; an unmatched story is wrong);
* figure recall: a labelled figure is found when a figure of the matched story has the same value
  and unit and its text overlaps the labelled text;
* spam recall over spam items, and how many real-news items were called spam;
* measures micro-F1 over labelled relevant stories (an unmatched story predicts no measure).

Exit code 1 when a metric misses its target, so CI can gate on it.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from consumers.analysis.corpus import load_corpus
from consumers.analysis.normalize import to_simplified

TITLE_MATCH_RATIO = 0.8
MIN_SHARED_RUN = 6

# name -> (target, comparison); "max" means the value must not exceed the target.
TARGETS: dict[str, tuple[float, str]] = {
    "relevance_precision": (0.95, "min"),
    "relevance_recall": (0.95, "min"),
    "province_accuracy": (0.95, "min"),
    "city_accuracy": (0.90, "min"),
    "figure_recall": (0.85, "min"),
    "spam_recall": (0.95, "min"),
    "real_news_called_spam": (0, "max"),
}


def simplified_fold(text: str) -> str:
    """Traditional -> Simplified (the pipeline's own conversion), full width -> half width (NFKC),
    lower-cased."""
    return to_simplified(unicodedata.normalize("NFKC", text)).lower()


def title_key(title: str) -> str:
    """A title reduced to what identifies it: Simplified, no whitespace, punctuation or symbols."""
    return "".join(ch for ch in simplified_fold(title) if unicodedata.category(ch)[0] not in "PZSC")


def titles_match(a_key: str, b_key: str) -> bool:
    """Fuzzy equality of two title keys; a key containing the other counts when the shorter one is
    most of the longer (a title line that also carries a kicker or a place prefix)."""
    if not a_key or not b_key:
        return False
    shorter, longer = sorted((a_key, b_key), key=len)
    if shorter in longer and len(shorter) >= 0.6 * len(longer):
        return True
    return SequenceMatcher(None, a_key, b_key, autojunk=False).ratio() >= TITLE_MATCH_RATIO


def match_stories(labelled: list[dict], predicted: list[dict]) -> list[int | None]:
    """For each labelled story, the index of its predicted story (or None). One-to-one, greedy in
    reading order, best title similarity first."""
    predicted_keys = [title_key(p.get("title_original") or p.get("title") or "") for p in predicted]
    simplified_keys = [title_key(p.get("title") or "") for p in predicted]
    used: set[int] = set()
    matches: list[int | None] = []
    for story in labelled:
        wanted = title_key(story["title"])
        best: tuple[float, int] | None = None
        for index, keys in enumerate(zip(predicted_keys, simplified_keys, strict=True)):
            if index in used or not any(titles_match(k, wanted) for k in keys):
                continue
            ratio = max(SequenceMatcher(None, k, wanted, autojunk=False).ratio() for k in keys)
            if best is None or ratio > best[0]:
                best = (ratio, index)
        matches.append(None if best is None else best[1])
        if best is not None:
            used.add(best[1])
    return matches


def texts_overlap(a: str, b: str) -> bool:
    """Two figure texts point at the same place: one contains the other, or they share a run of at
    least half the shorter one and of more than the number with its unit (MIN_SHARED_RUN chars), so
    "另有商户890个" does not claim "精简微信工作群890个"."""
    a, b = simplified_fold(a).strip(), simplified_fold(b).strip()
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match()
    return match.size >= max(min(len(a), len(b)) / 2, MIN_SHARED_RUN)


def figure_found(label: dict, predicted_figures: Iterable[dict]) -> bool:
    unit = simplified_fold(str(label["unit"]))
    for figure in predicted_figures:
        if abs(float(figure["value"]) - float(label["value"])) > 1e-6:
            continue
        if simplified_fold(str(figure["unit"])) != unit:
            continue
        texts = [figure.get("text") or "", figure.get("text_original") or ""]
        if any(texts_overlap(text, label["text"]) for text in texts if text):
            return True
    return False


def first_region_agrees(labelled_regions: list[dict], predicted_regions: list[dict], level: str) -> bool:
    """Is the first predicted region's `level` (province/city) the first labelled one's?"""
    if not predicted_regions:
        return False
    return predicted_regions[0].get(level) == labelled_regions[0].get(level)


@dataclass
class Ratio:
    hits: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        self.hits += int(hit)
        self.total += 1

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None


@dataclass
class Evaluation:
    split: str
    precision: Ratio = field(default_factory=Ratio)     # predicted relevant that are labelled relevant
    recall: Ratio = field(default_factory=Ratio)        # labelled relevant found relevant
    province: Ratio = field(default_factory=Ratio)
    city: Ratio = field(default_factory=Ratio)
    figures: Ratio = field(default_factory=Ratio)
    spam: Ratio = field(default_factory=Ratio)
    real_news_called_spam: int = 0
    measures_tp: int = 0
    measures_fp: int = 0
    measures_fn: int = 0
    items_per_category: Counter = field(default_factory=Counter)
    stories_labelled: int = 0
    stories_predicted: int = 0
    failures: dict[str, list[str]] = field(default_factory=dict)

    def fail(self, metric: str, what: str) -> None:
        self.failures.setdefault(metric, []).append(what)

    @property
    def measures_f1(self) -> float | None:
        denominator = 2 * self.measures_tp + self.measures_fp + self.measures_fn
        return 2 * self.measures_tp / denominator if denominator else None

    def metrics(self) -> dict[str, dict]:
        """Every figure with its target and whether it is met (None when there was nothing to measure)."""
        values: dict[str, tuple[float | None, str]] = {
            "relevance_precision": (self.precision.value, f"{self.precision.hits}/{self.precision.total}"),
            "relevance_recall": (self.recall.value, f"{self.recall.hits}/{self.recall.total}"),
            "province_accuracy": (self.province.value, f"{self.province.hits}/{self.province.total}"),
            "city_accuracy": (self.city.value, f"{self.city.hits}/{self.city.total}"),
            "figure_recall": (self.figures.value, f"{self.figures.hits}/{self.figures.total}"),
            "spam_recall": (self.spam.value, f"{self.spam.hits}/{self.spam.total}"),
            "real_news_called_spam": (float(self.real_news_called_spam), str(self.real_news_called_spam)),
            "measures_micro_f1": (self.measures_f1, f"tp={self.measures_tp} fp={self.measures_fp} fn={self.measures_fn}"),
        }
        out = {}
        for name, (value, detail) in values.items():
            target, direction = TARGETS.get(name, (None, ""))
            met = None
            if target is not None and value is not None:
                met = value >= target if direction == "min" else value <= target
            out[name] = {"value": value, "detail": detail, "target": target, "direction": direction, "met": met}
        return out

    @property
    def all_targets_met(self) -> bool:
        return all(m["met"] is not False for m in self.metrics().values())


def score_item(evaluation: Evaluation, item: dict, output: dict) -> None:
    """Add one labelled item and the pipeline's output for it to the running evaluation."""
    evaluation.items_per_category[item.get("category", "?")] += 1
    labelled = item.get("stories") or []
    predicted = output.get("stories") or []
    evaluation.stories_labelled += len(labelled)
    evaluation.stories_predicted += len(predicted)
    item_id = item["id"]

    if item.get("spam"):
        evaluation.spam.add(bool(output.get("spam")))
        if not output.get("spam"):
            evaluation.fail("spam_recall", item_id)
    elif output.get("spam"):
        evaluation.real_news_called_spam += 1
        evaluation.fail("real_news_called_spam", item_id)

    matches = match_stories(labelled, predicted)
    matched_relevant = {m for story, m in zip(labelled, matches, strict=True) if m is not None and story["relevant"]}
    for index, story in enumerate(predicted):
        if story.get("relevant"):
            evaluation.precision.add(index in matched_relevant)
            if index not in matched_relevant:
                evaluation.fail("relevance_precision", f"{item_id}: {story.get('title')}")

    for story, match in zip(labelled, matches, strict=True):
        if not story["relevant"]:
            continue
        found = predicted[match] if match is not None else None
        hit = bool(found and found.get("relevant"))
        evaluation.recall.add(hit)
        if not hit:
            why = "no predicted story with this title" if found is None else f"score {found.get('score')}"
            evaluation.fail("relevance_recall", f"{item_id}: {story['title']} ({why})")
        _score_regions(evaluation, item_id, story, found)
        _score_figures(evaluation, item_id, story, found)
        gold = set(story.get("measures") or [])
        guess = set(found.get("measures") or []) if found else set()
        evaluation.measures_tp += len(gold & guess)
        evaluation.measures_fp += len(guess - gold)
        evaluation.measures_fn += len(gold - guess)
        if gold != guess:
            evaluation.fail("measures_micro_f1", f"{item_id}: +{sorted(guess - gold)} -{sorted(gold - guess)}")


def _score_regions(evaluation: Evaluation, item_id: str, story: dict, found: dict | None) -> None:
    labelled_regions = story.get("regions") or []
    if not labelled_regions:
        return
    predicted_regions = (found or {}).get("regions") or []
    first = predicted_regions[0] if predicted_regions else None
    for level, ratio, metric in (("province", evaluation.province, "province_accuracy"),
                                 ("city", evaluation.city, "city_accuracy")):
        hit = first_region_agrees(labelled_regions, predicted_regions, level)
        ratio.add(hit)
        if not hit:
            got = first.get(level) if first else "no region"
            evaluation.fail(metric, f"{item_id}: want {labelled_regions[0].get(level)} got {got}")


def _score_figures(evaluation: Evaluation, item_id: str, story: dict, found: dict | None) -> None:
    predicted_figures = (found or {}).get("figures") or []
    for figure in story.get("figures") or []:
        hit = figure_found(figure, predicted_figures)
        evaluation.figures.add(hit)
        if not hit:
            evaluation.fail("figure_recall", f"{item_id}: {figure['value']}{figure['unit']} “{figure['text']}”")


def analyze_input(item: dict, with_source: bool = False) -> dict:
    """The `newsmon analyze` input line for a corpus item: exactly the contract ({"id","text"} or
    {"id","html","url"}), optionally with the outlet and its home region, which the live processor
    knows from the source definition."""
    record = {"id": item["id"], **item["input"]}
    if with_source:
        record.update({k: item[k] for k in ("outlet", "home_region") if item.get(k)})
    return record


def evaluate(items: Iterable[dict], analyze: Callable[[dict], dict], split: str = "?",
             with_source: bool = False) -> Evaluation:
    """Run `analyze` on each item's input record and score it."""
    evaluation = Evaluation(split=split)
    for item in items:
        score_item(evaluation, item, analyze(analyze_input(item, with_source)))
    return evaluation


def _format_value(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    return str(int(value)) if name == "real_news_called_spam" else f"{value:.3f}"


def render_table(evaluation: Evaluation, details: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"newsmon analysis — {evaluation.split} split")
    for column in ("metric", "value", "count", "target", "met"):
        table.add_column(column)
    for name, m in evaluation.metrics().items():
        target = "" if m["target"] is None else ("≥ " if m["direction"] == "min" else "≤ ") + str(m["target"])
        met = {True: "[green]yes[/]", False: "[red]NO[/]", None: ""}[m["met"]]
        table.add_row(name, _format_value(name, m["value"]), m["detail"], target, met)
    categories = ", ".join(f"{k} {v}" for k, v in sorted(evaluation.items_per_category.items()))
    table.caption = (f"items: {sum(evaluation.items_per_category.values())} ({categories}); stories labelled "
                     f"{evaluation.stories_labelled}, predicted {evaluation.stories_predicted}")
    console = Console()
    console.print(table)
    if details:
        for metric, failures in evaluation.failures.items():
            console.print(f"[bold]{metric}[/] misses:")
            for failure in failures:
                console.print(f"  {failure}", markup=False)


def to_json(evaluation: Evaluation) -> dict:
    return {"split": evaluation.split, "metrics": evaluation.metrics(),
            "items_per_category": dict(evaluation.items_per_category),
            "stories_labelled": evaluation.stories_labelled, "stories_predicted": evaluation.stories_predicted,
            "all_targets_met": evaluation.all_targets_met, "failures": evaluation.failures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the analysis pipeline on the labelled corpus.")
    parser.add_argument("--split", choices=("test", "train", "all"), default="test")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--details", action="store_true", help="list the misses under the table")
    parser.add_argument("--with-source", action="store_true",
                        help="also pass each item's outlet and home region, as the live processor would")
    args = parser.parse_args(argv)

    try:
        from consumers.analysis.pipeline import analyze_record
    except ImportError as exc:
        print(f"error: the analysis pipeline cannot be imported: {exc}", file=sys.stderr)
        return 2

    evaluation = evaluate(load_corpus(args.split), analyze_record, split=args.split, with_source=args.with_source)
    if args.json:
        print(json.dumps(to_json(evaluation), ensure_ascii=False, indent=2))
    else:
        render_table(evaluation, details=args.details)
    return 0 if evaluation.all_targets_met else 1


if __name__ == "__main__":
    sys.exit(main())
