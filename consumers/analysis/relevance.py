"""Is a story about reducing the burden on grassroots cadres (为基层减负), and which measures does it
report?

Transparent by construction:

* Cue lexicons (`data/lexicons/relevance_cues.txt`) name the campaign (基层减负, 指尖上的形式主义),
  who carries the burden (基层干部, 村（社区）), and the look-alikes that are *not* about cadres
  (学生/双减, 教师, 减税降费/涉企检查, 减肥, 碳减排, WeChat-group fraud, app promotion, 巡视,
  招商专班, opinion essays).
* Measures (`relevance_measures.txt`, `relevance_actions.txt`) are found sentence by sentence: an
  object (工作群, 督检考, 报表) next to an action that cuts it (清理, 压减, 不得). Their presence is
  also a strong relevance signal: essays that only preach against 形式主义 report no measure.
* A logistic regression (`data/models/relevance.json`, trained by `train_relevance.py`) weighs the
  cue counts, the measures and rjieba words; its weights are plain JSON, so every decision can be
  explained as a sum of named contributions, which is what `RelevanceResult.reasons` lists.

Input is Simplified text (normalise first). Lexicons and model load once per process.
"""

from __future__ import annotations

import heapq
import json
import math
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import ahocorasick

from consumers.analysis import segment
from consumers.analysis.types import RelevanceResult
from newsmon.schemas import MEASURES

DATA_DIR = Path(__file__).parent / "data"
LEXICON_DIR = DATA_DIR / "lexicons"
MODEL_PATH = DATA_DIR / "models" / "relevance.json"

# Sentence ends for measure detection: a measure is an object and an action in one sentence.
_SENTENCE_END = re.compile(r"[。！？；!?;\n]")
# Clause ends, finer than sentences, for subordination (below).
_CLAUSE_END = re.compile(r"[。！？；!?;\n，,：:]")
# Quotation marks are dropped before matching so that 以“创建”为名, 「清群减号」 or 村“两委” read
# like the unquoted phrases in the lexicons (which get the same folding).
_QUOTES = re.compile(r"[“”「」『』‘’\"']")

# In one clause, some measures carry others as their means, which are then not separate measures:
# inspections and task forces bring their own paperwork (准备汇报材料和专门台账, 专班不得…下发文件、
# 要求报送报表, 签订责任状和创建示范评比表彰活动); check-ins happen in a group or an app
# (不得要求在政务APP上打卡签到, 取消工作群在线时长排名).
_SUBORDINATES = {
    "inspections": {"forms_reports", "meetings_documents", "other"},
    "task_forces": {"forms_reports", "meetings_documents", "other"},
    "check_ins": {"work_groups", "gov_apps", "public_accounts"},
}
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold_for_matching(text: str) -> str:
    """What cues are matched against: case folded, quotation marks removed."""
    return _QUOTES.sub("", fold_case(text))


def fold_case(text: str) -> str:
    """Lower-case for matching ("政务App" = "政务APP") without moving offsets. str.lower() is fast
    C code but lengthens a few non-ASCII letters (İ -> i̇); then only ASCII is folded (translate
    is ~10x slower, so it is the fallback, not the rule)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)
# A word token worth a feature: contains a CJK ideograph or is an ASCII word such as "app".
_WORD = re.compile(r"[\u4e00-\u9fff]|^[a-z]{2,}$")

# A commentary printed beside a news report of a measure belongs to that coverage (seed 000: the
# essay 破除“指尖上的形式主义” next to Tieling's clean-up of work groups). Such essays read much
# like the free-standing essays against formalism that are not relevant, so on their own they land
# near the decision threshold (0.52 in cross-validation). When the page carries a relevant story the
# bar drops to this value; stories about something else on those pages score 0.00–0.02 (seed pages).
PAGE_CONTEXT_THRESHOLD = 0.3

# Cue groups naming someone whose burden is *not* the grassroots cadres'.
_BENEFICIARY_GROUPS = ("student", "teacher", "business")

CUE = "cue"
OBJECT = "object"
STANDALONE = "standalone"
ACTION = "action"
FUTURE = "future"


def read_sections(path: Path) -> dict[str, list[str]]:
    """Parse a lexicon file of `[section]` headers and one phrase per line (`#` comments)."""
    sections: dict[str, list[str]] = defaultdict(list)
    current: str | None = None
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("[") and line.endswith("]"):
                current = line[1:-1].strip()
                continue
            if current is None:
                raise ValueError(f"{path.name}:{lineno}: phrase before any [section]")
            sections[current].append(fold_for_matching(line))
    return dict(sections)


@dataclass(frozen=True, slots=True)
class Lexicons:
    automaton: ahocorasick.Automaton          # phrase -> tuple of (kind, group)
    cue_groups: tuple[str, ...]
    bait_rules: tuple[tuple[str, ...], ...]   # every part must occur in the story


def build_lexicons(lexicon_dir: Path = LEXICON_DIR) -> Lexicons:
    entries: dict[str, set[tuple[str, str]]] = defaultdict(set)
    cues = read_sections(lexicon_dir / "relevance_cues.txt")
    bait_lines = cues.pop("bait", [])
    for group, phrases in cues.items():
        for phrase in phrases:
            entries[phrase].add((CUE, group))
    bait_rules = tuple(tuple(part.strip() for part in line.split("+")) for line in bait_lines)
    for rule in bait_rules:
        for part in rule:
            entries[part].add((CUE, "_bait_part"))
    for measure, phrases in read_sections(lexicon_dir / "relevance_measures.txt").items():
        if measure not in MEASURES:
            raise ValueError(f"relevance_measures.txt: unknown measure [{measure}]")
        for phrase in phrases:
            if phrase.startswith("!"):
                entries[phrase[1:]].add((STANDALONE, measure))
            else:
                entries[phrase].add((OBJECT, measure))
    actions = read_sections(lexicon_dir / "relevance_actions.txt")
    for kind in (ACTION, FUTURE):
        for phrase in actions.get(kind, ()):
            entries[phrase].add((kind, ""))

    automaton = ahocorasick.Automaton()
    for phrase, tags in entries.items():
        automaton.add_word(phrase, (phrase, tuple(sorted(tags))))
    automaton.make_automaton()
    return Lexicons(automaton=automaton, cue_groups=tuple(sorted(cues)), bait_rules=bait_rules)


@cache
def lexicons() -> Lexicons:
    return build_lexicons()


@dataclass(frozen=True, slots=True)
class RelevanceModel:
    """Logistic regression over named features: p = sigmoid(intercept + Σ weight·value)."""

    intercept: float
    weights: dict[str, float]
    threshold: float

    @classmethod
    def from_json(cls, data: dict) -> RelevanceModel:
        return cls(intercept=float(data["intercept"]), weights=dict(data["weights"]),
                   threshold=float(data["threshold"]))

    def contributions(self, features: dict[str, float]) -> dict[str, float]:
        return {name: self.weights[name] * value for name, value in features.items() if name in self.weights}

    def probability(self, features: dict[str, float]) -> float:
        return self.probability_from(self.contributions(features))

    def probability_from(self, contributions: dict[str, float]) -> float:
        margin = self.intercept + sum(contributions.values())
        return 1.0 / (1.0 + math.exp(-margin))


@cache
def model(path: Path = MODEL_PATH) -> RelevanceModel:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m consumers.analysis.train_relevance`")
    return RelevanceModel.from_json(json.loads(path.read_text(encoding="utf-8")))


@dataclass(slots=True)
class CueMatches:
    """What the lexicons found in one story."""

    cues: dict[str, list[str]]                 # cue group -> matched phrases (with repeats)
    title_cues: set[str]                       # cue groups seen in the title
    measures: dict[str, str]                   # measure -> evidence sentence
    bait: list[str]                            # satisfied bait rules, e.g. "基层+减负"


def _is_false_group_hit(text: str, phrase: str, end: int) -> bool:
    # "工作群众", "微信群众": a cue ending in 群 followed by 众 is the word 群众 (the masses).
    return phrase.endswith("群") and end + 1 < len(text) and text[end + 1] == "众"


def match_cues(title: str, text: str, lex: Lexicons | None = None) -> CueMatches:
    """One Aho-Corasick pass over title + text: cue groups, bait rules and measures (object + action
    in one sentence that is not a plan, or a standalone cue)."""
    lex = lex or lexicons()
    title_l = fold_for_matching(title)
    body = f"{title_l}\n{fold_for_matching(text)}"
    sentence_ends = [m.start() for m in _SENTENCE_END.finditer(body)]
    clause_ends = [m.start() for m in _CLAUSE_END.finditer(body)]
    cues: dict[str, list[str]] = defaultdict(list)
    title_cues: set[str] = set()
    seen_phrases: set[str] = set()
    # per sentence: (start, end, kind, measure) of every object / standalone cue
    sentence_measure_cues: dict[int, list[tuple[int, int, str, str]]] = defaultdict(list)
    sentences_with_action: set[int] = set()
    future_sentences: set[int] = set()
    for end, (phrase, tags) in lex.automaton.iter(body):
        if _is_false_group_hit(body, phrase, end):
            continue
        seen_phrases.add(phrase)
        sentence = bisect_right(sentence_ends, end)
        for kind, group in tags:
            if kind == CUE:
                if group == "_bait_part":
                    continue
                cues[group].append(phrase)
                if end < len(title_l):
                    title_cues.add(group)
            elif kind in (OBJECT, STANDALONE):
                sentence_measure_cues[sentence].append((end - len(phrase) + 1, end, kind, group))
            elif kind == ACTION:
                sentences_with_action.add(sentence)
            else:
                future_sentences.add(sentence)

    measures: dict[str, str] = {}
    for sentence in sorted(sentence_measure_cues):
        if sentence in future_sentences:
            continue
        has_action = sentence in sentences_with_action
        spans = _outermost(sentence_measure_cues[sentence])
        subordinated: set[tuple[int, str]] = set()     # (clause, measure) carried by another measure
        for _, end, _, measure in spans:
            clause = bisect_right(clause_ends, end)
            subordinated.update((clause, sub) for sub in _SUBORDINATES.get(measure, ()))
        for _start, end, kind, measure in spans:
            if (bisect_right(clause_ends, end), measure) in subordinated:
                continue
            if kind == STANDALONE or has_action:
                measures.setdefault(measure, _sentence_text(body, sentence_ends, sentence))
    bait = ["+".join(rule) for rule in lex.bait_rules if all(part in seen_phrases for part in rule)]
    return CueMatches(cues=dict(cues), title_cues=title_cues, measures=measures, bait=bait)


def _outermost(spans: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Drop cues lying inside a longer cue (so "会议照片" overrides "会议"); spans are few per
    sentence, so the quadratic check is cheap."""
    return [span for span in spans
            if not any(o[0] <= span[0] and span[1] <= o[1] and (o[1] - o[0]) > (span[1] - span[0]) for o in spans)]


def _sentence_text(body: str, sentence_ends: list[int], index: int, limit: int = 60) -> str:
    start = sentence_ends[index - 1] + 1 if index > 0 else 0
    end = sentence_ends[index] if index < len(sentence_ends) else len(body)
    sentence = body[start:end].strip()
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def word_features(prefix: str, text: str) -> dict[str, float]:
    """Binary presence of rjieba words (CJK words, ASCII words of ≥2 letters; no numbers)."""
    return {f"{prefix}{tok}": 1.0 for tok in segment.cut(fold_case(text))
            if len(tok) >= 2 and _WORD.search(tok)}


def cue_features(matches: CueMatches) -> dict[str, float]:
    """The lexicon part of the features: cue-group counts, title cues, bait rules, measures."""
    features: dict[str, float] = {}
    for group, phrases in matches.cues.items():
        features[f"cue:{group}"] = math.log1p(len(phrases))
    for group in matches.title_cues:
        features[f"title:{group}"] = 1.0
    # Whose burden is it? The share of look-alike beneficiaries (students, teachers, firms) among
    # all beneficiaries named, cadres included: a teacher-burden story names 教师/学校 far more
    # often than 基层干部, while a cadre story that mentions schools in passing does not.
    cadres = len(matches.cues.get("grassroots", ()))
    for group in _BENEFICIARY_GROUPS:
        mentions = len(matches.cues.get(group, ()))
        if mentions:
            features[f"share:{group}"] = mentions / (mentions + cadres)
            if not cadres and not matches.cues.get("campaign"):
                features["lookalike_without_cadres"] = 1.0
    for rule in matches.bait:
        features[f"bait:{rule}"] = 1.0
    for measure in matches.measures:
        features[f"measure:{measure}"] = 1.0
    if matches.measures:
        features["measures"] = math.log1p(len(matches.measures))
    return features


def story_features(title: str, text: str, matches: CueMatches | None = None) -> dict[str, float]:
    """The classifier's input: named, non-negative features. Training (train_relevance.py) uses
    this; inference takes an equivalent shortcut for the word part (`_contributions`)."""
    features = cue_features(matches or match_cues(title, text))
    features.update(word_features("w:", text))
    features.update(word_features("t:", title))
    return features


def _contributions(clf: RelevanceModel, title: str, text: str, matches: CueMatches) -> dict[str, float]:
    """Σ weight·value terms of `story_features`, computed fast: word features are binary and only
    words with a weight matter, so each distinct token is looked up once instead of being filtered
    and turned into a feature dict first (that was half the classification time)."""
    contributions = clf.contributions(cue_features(matches))
    weights = clf.weights
    for prefix, part in (("w:", text), ("t:", title)):
        for tok in dict.fromkeys(segment.cut(fold_case(part))):   # a set's order follows the hash seed
            weight = weights.get(prefix + tok)
            if weight is not None:
                contributions[prefix + tok] = weight
    return contributions


def _explain(contributions: dict[str, float], matches: CueMatches, limit: int = 6) -> list[str]:
    """The largest named contributions, with the phrases behind cue features."""
    reasons = []
    for name, value in heapq.nlargest(limit, contributions.items(), key=lambda kv: abs(kv[1])):
        kind, _, key = name.partition(":")
        if kind == "cue":
            phrases = Counter(matches.cues.get(key, ())).most_common(3)
            detail = "、".join(f"{p}×{n}" if n > 1 else p for p, n in phrases)
            reasons.append(f"{key} cues ({detail}) {value:+.2f}")
        elif kind == "measure":
            reasons.append(f"measure {key}: “{matches.measures[key]}” {value:+.2f}")
        elif kind in ("w", "t"):
            where = "title word" if kind == "t" else "word"
            reasons.append(f"{where} {key} {value:+.2f}")
        else:
            reasons.append(f"{name} {value:+.2f}")
    return reasons


def classify_relevance(title: str, text: str, *, page_has_relevant_story: bool = False) -> RelevanceResult:
    """Relevance of one Simplified story: verdict, probability-like score, measures (only for
    relevant stories, "other" for burden cuts outside the fixed list) and the reasons.

    `page_has_relevant_story`: another story of the same page was found relevant. Callers classify
    a page's stories once, then re-classify the rest with this flag when one of them is relevant;
    it lowers the bar (PAGE_CONTEXT_THRESHOLD) so a companion commentary is kept."""
    matches = match_cues(title, text)
    clf = model()
    contributions = _contributions(clf, title, text, matches)
    score = clf.probability_from(contributions)
    threshold = min(clf.threshold, PAGE_CONTEXT_THRESHOLD) if page_has_relevant_story else clf.threshold
    relevant = score >= threshold
    measures = [m for m in MEASURES if m in matches.measures] if relevant else []
    reasons = _explain(contributions, matches)
    if page_has_relevant_story and relevant and score < clf.threshold:
        reasons.append(f"kept beside a relevant story on the same page (score ≥ {threshold})")
    return RelevanceResult(relevant=relevant, score=round(score, 4), measures=measures, reasons=reasons)
