"""Train the relevance classifier and write `data/models/relevance.json`.

    python -m consumers.analysis.train_relevance [--seeds DIR] [--output PATH]

Training stories come from the corpus *train* split only (`load_corpus("train")`) plus the five
seed pages (split into stories by their labelled titles). Every story is turned into the same named
features `relevance.story_features` computes at run time; a logistic regression is fitted on them
and stored as JSON (intercept, threshold, weight per feature), which is diffable, safe to load and
explains itself. Cross-validation on the training stories (grouped by page, so stories of one page
never sit on both sides) picks the regularisation and the decision threshold and is printed.
Deterministic: fixed folds and solver, no random sampling.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold

from consumers.analysis.corpus import load_corpus
from consumers.analysis.evaluate import title_key, titles_match
from consumers.analysis.extract import extract_page
from consumers.analysis.junk import is_spam_line, spam_terms
from consumers.analysis.normalize import to_simplified
from consumers.analysis.relevance import MODEL_PATH, PAGE_CONTEXT_THRESHOLD, story_features

DEFAULT_SEEDS_DIR = Path("/work/shared/seeds")
C_GRID = (0.1, 0.3, 1.0, 3.0)
MIN_WORD_DF = 5          # rarer words add model size, not cross-validated accuracy (same log-loss at 2, 3, 5)
N_FOLDS = 5


@dataclass(slots=True)
class LabelledStory:
    source: str                      # page id, used to keep a page's stories in one fold
    title: str                       # Simplified
    text: str                        # Simplified
    relevant: bool
    measures: list[str] = field(default_factory=list)
    # A commentary on a page whose other story is relevant: the pipeline judges it with
    # `page_has_relevant_story=True`, i.e. against relevance.PAGE_CONTEXT_THRESHOLD.
    page_context: bool = False


_ANNOTATION = re.compile(r"\s*\([^)]*[A-Za-z][^)]*\)\s*$")   # "… (several continuation pieces)"


def label_title(title: str) -> str:
    """A labelled title as it appears on the page: drop an English annotation in parentheses."""
    return _ANNOTATION.sub("", title)


def split_by_titles(text: str, titles: list[str]) -> list[tuple[int, str, str]]:
    """Cut a page's text into stories at its labelled titles (in reading order).

    Returns (label index, title line, body) for each title found as a line of `text`; the body
    runs to the next found title. Titles not found are left out (their body stays with the story
    before). Text before the first title (spam, navigation) is dropped."""
    lines = text.splitlines()
    found: list[tuple[int, int]] = []         # (label index, line index)
    cursor = 0
    for index, title in enumerate(titles):
        wanted = title_key(label_title(title))
        for line_no in range(cursor, len(lines)):
            if lines[line_no].strip() and titles_match(title_key(lines[line_no]), wanted):
                found.append((index, line_no))
                cursor = line_no + 1
                break
    stories = []
    for pos, (index, line_no) in enumerate(found):
        end = found[pos + 1][1] if pos + 1 < len(found) else len(lines)
        body = "\n".join(line for line in lines[line_no + 1 : end] if line.strip())
        stories.append((index, lines[line_no].strip(), body))
    return stories


def page_text(item_input: dict) -> str:
    """The text of a corpus input: text as is; HTML through the pipeline's extractor (title line,
    then one paragraph per line), so HTML items train on what the classifier will see."""
    if "text" in item_input:
        return item_input["text"]
    page = extract_page(item_input["html"], item_input.get("url"))
    return "\n".join(([page.title] if page.title else []) + page.paragraphs)


def stories_of_page(source: str, text: str, labels: list[dict]) -> Iterator[LabelledStory]:
    text = to_simplified(text)
    for index, title, body in split_by_titles(text, [to_simplified(s["title"]) for s in labels]):
        label = labels[index]
        companion = label.get("kind") == "commentary" and any(
            other["relevant"] for i, other in enumerate(labels) if i != index)
        yield LabelledStory(source=source, title=title, text=body, relevant=bool(label["relevant"]),
                            measures=list(label.get("measures") or []), page_context=companion)


def corpus_stories(items: Iterable[dict]) -> Iterator[LabelledStory]:
    """Labelled stories of corpus items. A spam page is one negative story (its first line as the
    title): when the page-level spam filter misses a page that dresses gambling or porn ads in
    burden-reduction words ("为根层减轻肩负 精简事情群组"), relevance must still say no."""
    for item in items:
        text = page_text(item["input"])
        if item.get("spam"):
            title, _, body = to_simplified(text).strip().partition("\n")
            if _clean_copy(body):
                continue
            yield LabelledStory(source=item["id"], title=title.strip(), text=body, relevant=False)
        elif item.get("stories"):
            yield from stories_of_page(item["id"], text, item["stories"])


def _clean_copy(body: str) -> bool:
    """A spam page whose text, once its keyword lines are gone, is a copied news story with no spam
    term left (a mirror that only put keywords in its <title> or header): as a negative it would
    teach that the story itself is not relevant. Only the page-level spam filter can judge it."""
    rest = [line for line in body.splitlines() if line.strip() and not is_spam_line(line)]
    return bool(rest) and not any(spam_terms(line, min_weight=2) for line in rest)


def seed_stories(seeds_dir: Path = DEFAULT_SEEDS_DIR) -> list[LabelledStory]:
    labels = json.loads((seeds_dir / "labels.json").read_text(encoding="utf-8"))["seeds"]
    stories: list[LabelledStory] = []
    for name, seed in sorted(labels.items()):
        text = (seeds_dir / name).read_text(encoding="utf-8")
        stories.extend(stories_of_page(f"seed:{name}", text, seed["stories"]))
    return stories


def prune_rare_words(rows: list[dict[str, float]], min_df: int) -> list[dict[str, float]]:
    """Drop word features (w:/t:) seen in fewer than `min_df` stories; cue features always stay."""
    df: dict[str, int] = {}
    for row in rows:
        for name in row:
            df[name] = df.get(name, 0) + 1
    return [{k: v for k, v in row.items() if k[:2] not in ("w:", "t:") or df[k] >= min_df} for row in rows]


def fit(rows: list[dict[str, float]], labels: np.ndarray, c: float) -> tuple[DictVectorizer, LogisticRegression]:
    vectorizer = DictVectorizer(sparse=True)
    x = vectorizer.fit_transform(rows)
    clf = LogisticRegression(C=c, class_weight="balanced", solver="lbfgs", max_iter=2000)
    clf.fit(x, labels)
    return vectorizer, clf


def out_of_fold_scores(rows, labels, groups, c: float) -> np.ndarray:
    folds = StratifiedGroupKFold(n_splits=N_FOLDS, shuffle=False)
    scores = np.zeros(len(rows))
    for train_idx, test_idx in folds.split(rows, labels, groups):
        vectorizer, clf = fit([rows[i] for i in train_idx], labels[train_idx], c)
        scores[test_idx] = clf.predict_proba(vectorizer.transform([rows[i] for i in test_idx]))[:, 1]
    return scores


def decide(scores: np.ndarray, threshold: float, page_context: np.ndarray) -> np.ndarray:
    """Verdicts as the pipeline reaches them: companion commentaries against the page-context bar."""
    return np.where(page_context, scores >= min(threshold, PAGE_CONTEXT_THRESHOLD), scores >= threshold)


def best_threshold(scores: np.ndarray, labels: np.ndarray, page_context: np.ndarray) -> float:
    """The threshold with the best F1 on out-of-fold scores; ties go to the one nearest 0.5."""
    candidates = np.round(np.arange(0.3, 0.71, 0.05), 2)
    return float(max(candidates, key=lambda t: (f1(decide(scores, t, page_context), labels), -abs(t - 0.5))))


def f1(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(precision_recall_fscore_support(labels, predicted, average="binary", zero_division=0)[2])


def model_json(vectorizer: DictVectorizer, clf: LogisticRegression, threshold: float, **about) -> dict:
    weights = {name: round(float(w), 4) for name, w in zip(vectorizer.feature_names_, clf.coef_[0], strict=True)
               if abs(w) >= 1e-3}
    return {"format": 1, "kind": "logistic_regression", **about,
            "intercept": round(float(clf.intercept_[0]), 4), "threshold": threshold,
            "weights": dict(sorted(weights.items(), key=lambda kv: -abs(kv[1])))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS_DIR)
    parser.add_argument("--output", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)

    stories = list(corpus_stories(load_corpus("train")))
    n_corpus = len(stories)
    if args.seeds.exists():
        stories += seed_stories(args.seeds)
    labels = np.array([s.relevant for s in stories], dtype=int)
    groups = np.array([s.source for s in stories])
    page_context = np.array([s.page_context for s in stories])
    rows = prune_rare_words([story_features(s.title, s.text) for s in stories], MIN_WORD_DF)
    print(f"training stories: {len(stories)} ({n_corpus} corpus train, {len(stories) - n_corpus} seed); "
          f"relevant {labels.sum()}, not {len(labels) - labels.sum()}")

    # Pick C by cross-validated F1, then by log-loss (the corpus is separable enough that several
    # C reach the same F1; log-loss prefers the one whose scores are honest probabilities).
    results = []
    for c in C_GRID:
        scores = out_of_fold_scores(rows, labels, groups, c)
        threshold = best_threshold(scores, labels, page_context)
        verdicts = decide(scores, threshold, page_context)
        p, r, f, _ = precision_recall_fscore_support(labels, verdicts, average="binary", zero_division=0)
        loss = log_loss(labels, scores)
        results.append((f, -loss, c, threshold, p, r, scores))
        print(f"  C={c:<4} threshold={threshold:.2f}  CV precision={p:.3f} recall={r:.3f} F1={f:.3f} log-loss={loss:.3f}")
    f, _, c, threshold, p, r, scores = max(results, key=lambda row: row[:2])
    for story, score, verdict in zip(stories, scores, decide(scores, threshold, page_context), strict=True):
        if verdict != story.relevant or abs(score - threshold) < 0.15:
            note = "MISS" if verdict != story.relevant else "near"
            context = " (judged with page context)" if story.page_context else ""
            print(f"  {note} CV score {score:.2f} label={story.relevant!s:5} {story.source}: {story.title[:40]}{context}")
    vectorizer, clf = fit(rows, labels, c)
    data = model_json(vectorizer, clf, threshold, C=c, training_stories=len(stories),
                      cv={"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4)})
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"chose C={c} threshold={threshold:.2f}; wrote {len(data['weights'])} weights to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
